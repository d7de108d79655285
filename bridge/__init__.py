"""Loyalty Bridge: a self-hosted customer club for WooCommerce and other shops."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when an app is made, never by `import bridge`: the slim supervisor
    from flask import Flask  # (bridge.supervise) and small commands do not pay for Flask and the configuration

    from bridge.config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """The only app factory. Reads ``$BRIDGE_CONFIG`` (or ./config.yaml) when no settings are given."""
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from bridge import features, logs
    from bridge.config import load_settings
    from bridge.runtime import EXTENSION_KEY, Runtime
    from bridge.web import (
        admin_api,
        body,
        cors,
        demo,
        errors,
        events_api,
        health,
        notifications_api,
        openapi,
        privacy_api,
        program_api,
        redemption_api,
        referrals_api,
        reports_api,
        rules_api,
        segments_api,
        shops_api,
        tiers_api,
        webhooks,
        widget_api,
        widget_assets,
    )

    settings = settings or load_settings()
    logs.configure(settings.log_level, settings.log_format)
    app = Flask(__name__)
    from bridge.observability import web as observability

    observability.init_app(app)  # issue 19: the request id, before any other hook
    if settings.trusted_proxies:
        # Behind N reverse proxies the socket's peer is the nearest proxy: take the client's address (and the
        # scheme) from the N hops' X-Forwarded-For/-Proto, and from nowhere else, so a client cannot choose its
        # own address for the rate limits by sending the header itself.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    body.init_app(app)  # bounded bodies, JSON and ids: before any blueprint
    app.json.sort_keys = False  # type: ignore[attr-defined]
    features.load_web()  # the composition root: every feature registers its jobs, observers and panel sections
    app.extensions[EXTENSION_KEY] = Runtime.build(settings)
    errors.init_app(app)
    cors.init_app(app)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(admin_api.bp)
    app.register_blueprint(health.bp)
    redemption_api.register(app)  # issue 4
    shops_api.register(app)  # issue 7
    referrals_api.register(app)  # issue 5
    rules_api.register(app)  # issue 3
    widget_api.register(app)  # issue 6: panel and club
    widget_assets.register(app)  # issue 6: the widget's script and languages
    demo.register(app)  # issue 13: GET / for a shop with demo: true
    program_api.register(app)  # issue 14: the program as data
    from bridge import console

    console.register(app)  # issue 15: the owner console at /console/
    notifications_api.register(app)  # issue 17: unsubscribe links, deliveries, replay, preview
    privacy_api.register(app)  # issue 19: GDPR export and erase
    events_api.register(app)  # issue 19: custom events
    from bridge.observability import endpoint as metrics_endpoint

    metrics_endpoint.register(app, app.extensions[EXTENSION_KEY])  # issue 19: GET /metrics
    tiers_api.register(app)  # issue 16: tier history, overrides, the widget's tier section
    segments_api.register(app)  # issue 16: segments with counts
    reports_api.register(app)  # issue 18: reports as JSON and CSV
    openapi.register(app)  # issue 19: /openapi.json and /docs
    return app


def serve_app() -> Flask:
    """The app gunicorn serves, loaded once in its master (``bridge.web.gunicorn_conf``); each worker then renews
    its connections and starts its change listener after the fork (``Runtime.after_fork``)."""
    return create_app()

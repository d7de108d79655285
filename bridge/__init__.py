"""Loyalty Bridge: a self-hosted customer club for WooCommerce and other shops."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from bridge.config import Settings, load_settings


def create_app(settings: Settings | None = None) -> Flask:
    """The only app factory. Reads ``$BRIDGE_CONFIG`` (or ./config.yaml) when no settings are given."""
    from bridge import features, logs
    from bridge.runtime import EXTENSION_KEY, Runtime
    from bridge.web import (
        admin_api,
        body,
        cors,
        demo,
        errors,
        health,
        program_api,
        redemption_api,
        referrals_api,
        rules_api,
        shops_api,
        webhooks,
        widget_api,
        widget_assets,
    )

    settings = settings or load_settings()
    logs.configure(settings.log_level)
    app = Flask(__name__)
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
    return app


def serve_app() -> Flask:
    """The app a gunicorn worker serves: ``create_app`` plus the change listener, so this worker applies a
    published program or a connected shop as soon as it is announced."""
    from bridge.runtime import EXTENSION_KEY

    app = create_app()
    app.extensions[EXTENSION_KEY].follow_changes()
    return app

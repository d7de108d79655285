"""A shop's settings that ``bridge connect`` does not manage — widget secret, allowed origins — edited live by the
owner (issue 14), through the same service as ``PATCH /admin/v1/shops/<id>/settings``. The secret is never shown."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from bridge.console import forms as console_forms
from bridge.console import i18n
from bridge.console.guard import signed_in
from bridge.console.routing import Role, console_route
from bridge.errors import ConfigError
from bridge.runtime import current_runtime
from bridge.sync import shop_settings

MAX_ORIGINS = 50


@console_route("/shops/<shop_id>/settings", role=Role.OWNER)
def shop_settings_page(shop_id: str) -> str:
    rt = current_runtime()
    view = shop_settings.view(rt.settings, shop_settings.rows(rt.engine, rt.program_id), shop_id)
    return render_template("console/shop_settings.html", view=view, errors={}, origin_errors=[], origins_text=None)


@console_route("/shops/<shop_id>/settings", role=Role.OWNER, methods=("POST",))
def shop_settings_post(shop_id: str) -> Response | tuple[str, int]:
    rt = current_runtime()
    user = signed_in()
    assert user is not None
    change: dict[str, object] = {}
    origins_text = request.form.get("allowed_origins", "")
    if request.form.get("origins_from") == "config":
        change["allowed_origins"] = None
    else:
        change["allowed_origins"] = [line.strip() for line in origins_text.splitlines() if line.strip()][:MAX_ORIGINS]
    secret = request.form.get("widget_secret", "").strip()
    if request.form.get("secret_from") == "config":
        change["widget_secret"] = None
    elif request.form.get("secret_from") == "off":
        change["widget_secret"] = ""
    elif secret:
        change["widget_secret"] = secret  # empty: the secret stays as it is
    try:
        validated = shop_settings.validated(change)
        shop_settings.update(rt.settings, rt.engine, shop_id, validated, actor=user.actor)
    except ConfigError as exc:
        view = shop_settings.view(rt.settings, shop_settings.rows(rt.engine, rt.program_id), shop_id)
        errors = {exc.key: exc.reason}
        origin_errors = [(k, v) for k, v in errors.items() if k.startswith("allowed_origins")]
        page = render_template(
            "console/shop_settings.html",
            view=view,
            errors=errors,
            origin_errors=origin_errors,
            origins_text=origins_text,
        )
        return page, 422
    rt.changed("shops")
    console_forms.done(i18n.gettext("The shop's settings are saved; every process follows within seconds."))
    return redirect(url_for("console.shop_settings_page", shop_id=shop_id))

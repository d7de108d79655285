"""The Shops page: per shop, its keys, each bridge webhook's status in the shop, the last delivery and the
backlog, the reconciliation's lag and the backfill's progress (``bridge status`` and the admin API's shop status).

The page reads what the bridge recorded (the webhook statuses of the last health check); "ask the shop now"
(``?check=1``) asks the shop during the request, with no database transaction open. The owner's buttons
"reconcile now" and "re-check webhooks" enqueue the same work as the periodic jobs, for a worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bridge.console import forms
from bridge.console.i18n import gettext
from bridge.console.routing import Role, console_route
from bridge.runtime import current_runtime
from bridge.sync import jobs as sync_jobs
from bridge.sync.status import shop_status


@console_route("/shops", role=Role.VIEWER)
def shops() -> str:
    rt = current_runtime()
    check = request.args.get("check") == "1"
    rt.reload_shops()
    statuses: list[dict[str, Any]] = [_shown(shop_status(rt, s.id, check_shop=check)) for s in rt.settings.shops]
    return render_template(
        "console/shops.html",
        statuses=statuses,
        checked=check,
        can_act=forms.actor().role.allows(Role.OWNER),
    )


@console_route("/shops/<shop_id>/reconcile", role=Role.OWNER, methods=("POST",))
def shop_reconcile(shop_id: str) -> ResponseReturnValue:
    sync_jobs.request_now(current_runtime(), sync_jobs.RECONCILE_JOB, shop_id[:64], actor=forms.actor().actor)
    forms.done(gettext("A reconciliation was queued; a worker runs it."))
    return redirect(url_for("console.shops"))


@console_route("/shops/<shop_id>/check-webhooks", role=Role.OWNER, methods=("POST",))
def shop_check_webhooks(shop_id: str) -> ResponseReturnValue:
    sync_jobs.request_now(current_runtime(), sync_jobs.CHECK_WEBHOOKS_JOB, shop_id[:64], actor=forms.actor().actor)
    forms.done(gettext("A webhook check was queued; a worker runs it."))
    return redirect(url_for("console.shops"))


def _shown(status: dict[str, Any]) -> dict[str, Any]:
    """The status's moments (ISO strings, as the admin API gives them) as datetimes, for ``|when``."""
    status["connected_at"] = _moment(status.get("connected_at"))
    status["inbox"]["last_delivery_at"] = _moment(status["inbox"].get("last_delivery_at"))
    for sync in (status.get("reconcile"), status.get("backfill")):
        if sync:
            sync["last_finished_at"] = _moment(sync.get("last_finished_at"))
    return status


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None

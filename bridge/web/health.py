"""``/healthz``: the process answers. ``/readyz``: the database, Redis and a worker, each with since when it is down.

503 only when the database is unreachable: that is the one thing webhook intake needs. With Redis or every worker
down the web still acknowledges deliveries (they wait in the SQL inbox and are applied when both are back), so a
load balancer must keep sending them here: the answer is 200 with ``"status": "degraded"`` and the details.
Monitoring alerts on ``status != "ready"`` (or runs ``bridge status``, which exits 1).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from bridge.jobs.heartbeat import check
from bridge.redemption.readiness import rewards_detail
from bridge.runtime import current_runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    return jsonify({"status": "ok"}), 200


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    rt = current_runtime()
    health = check(rt)
    checks = health.checks
    if not health.database.ok:
        status, code = "not_ready", 503
    elif all(c.ok for c in checks.values()):
        status, code = "ready", 200
    else:
        status, code = "degraded", 200
    detail: dict[str, Any] = {name: c.as_json(health.checked_at) for name, c in checks.items() if not c.ok or c.detail}
    detail["rewards"] = rewards_detail(rt.settings)  # informative: a shop without coupons is still ready
    body = {"status": status, "checks": {name: c.state for name, c in checks.items()}, "detail": detail}
    return jsonify(body), code

"""``/healthz``: the process answers. ``/readyz``: the database and Redis answer too."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bridge.redemption.readiness import rewards_detail
from bridge.runtime import current_runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    return jsonify({"status": "ok"}), 200


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    rt = current_runtime()
    checks = {"database": "ok", "redis": "ok"}
    try:
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        checks["database"] = "unreachable"
    try:
        rt.redis().ping()
    except RedisError:
        checks["redis"] = "unreachable"
    ready = all(v == "ok" for v in checks.values())
    detail = {"rewards": rewards_detail(rt.settings)}  # informative: a shop that cannot issue coupons is still ready
    return jsonify({"status": "ready" if ready else "not_ready", "checks": checks, "detail": detail}), (
        200 if ready else 503
    )

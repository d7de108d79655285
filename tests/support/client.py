"""Test-side helpers that drive the bridge the way a shop and an owner do: webhooks in, admin API out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from bridge.jobs.worker import run_worker
from bridge.runtime import Runtime
from bridge.storage import db
from bridge.storage import tables as t
from tests.support import woo

ADMIN_KEY = "test-admin-key-0123456789abcdef"
SHOP = "shop1"
WIDGET_SECRET = "widget-secret-for-tests-0123456789abcdef"


@dataclass
class Bridge:
    app: Flask
    client: FlaskClient

    @property
    def rt(self) -> Runtime:
        runtime: Runtime = self.app.extensions["bridge"]
        return runtime

    # -- the shop's side -------------------------------------------------------------------------------------
    def deliver(self, name: str, shop: str = SHOP) -> TestResponse:
        """Post a captured delivery exactly as it arrived (raw bytes and headers)."""
        return self.post_webhook(woo.raw_body(name), woo.headers_of(name), shop)

    def post_webhook(self, body: bytes, headers: dict[str, str], shop: str = SHOP) -> TestResponse:
        response = self.client.post(f"/webhooks/woocommerce/{shop}", data=body, headers=headers)
        response.close()  # as every WSGI server does once the answer is sent: runs the route's after-send work
        return response

    def deliver_ok(self, name: str) -> None:
        response = self.deliver(name)
        assert response.status_code == 200, response.get_data(as_text=True)

    def send_ok(self, body: bytes, headers: dict[str, str]) -> None:
        response = self.post_webhook(body, headers)
        assert response.status_code == 200, response.get_data(as_text=True)

    def drain(self) -> None:
        """Run the real RQ worker until the queue is empty."""
        run_worker(self.rt, burst=True, sweep=False)

    # -- the owner's side ------------------------------------------------------------------------------------
    def admin(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}", **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def member(self, email: str) -> dict[str, Any] | None:
        response = self.admin("GET", "/admin/v1/members", query_string={"email": email})
        assert response.status_code == 200, response.get_data(as_text=True)
        members = response.get_json()["members"]
        assert len(members) <= 1
        return members[0] if members else None

    def balance(self, email: str = woo.CAROL) -> dict[str, int]:
        member = self.member(email)
        return member["balance"] if member else {"available": 0, "pending": 0, "lifetime": 0}

    def available(self, email: str = woo.CAROL) -> int:
        return self.balance(email)["available"]

    def ledger(self, member_id: int) -> list[dict[str, Any]]:
        response = self.admin("GET", f"/admin/v1/members/{member_id}/ledger", query_string={"limit": 200})
        assert response.status_code == 200
        entries: list[dict[str, Any]] = response.get_json()["entries"]
        return entries

    # -- direct reads for assertions about storage -------------------------------------------------------------
    def inbox_count(self, state: str | None = None) -> int:
        stmt = select(func.count()).select_from(t.inbox_delivery)
        if state:
            stmt = stmt.where(t.inbox_delivery.c.state == state)
        with db.read(self.rt.engine) as conn:
            return int(conn.scalar(stmt) or 0)

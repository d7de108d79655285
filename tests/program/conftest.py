"""Helpers for the program-as-data tests (issue 14)."""

from __future__ import annotations

import copy
from typing import Any

from tests.support.client import Bridge


def published(bridge: Bridge) -> dict[str, Any]:
    response = bridge.admin("GET", "/admin/v1/program/published")
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def with_rate(document: dict[str, Any], rate: str) -> dict[str, Any]:
    """``document`` with another ``points_per_currency_unit``."""
    changed = copy.deepcopy(document)
    changed["earn"]["points_per_currency_unit"] = rate
    return changed


def draft(bridge: Bridge, document: dict[str, Any], reason: str = "") -> dict[str, Any]:
    response = bridge.admin("POST", "/admin/v1/program/drafts", json=document, query_string={"reason": reason})
    assert response.status_code == 201, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def publish(bridge: Bridge, draft_id: int) -> int:
    response = bridge.admin("POST", f"/admin/v1/program/drafts/{draft_id}/publish", json={"reason": "test"})
    assert response.status_code == 200, response.get_data(as_text=True)
    version: int = response.get_json()["version"]
    return version

"""The ledger's spend and return, the rate limit, and the background jobs that finish redemptions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bridge.errors import IdempotencyConflict, InsufficientPoints, UnknownMember
from bridge.jobs import schedule
from bridge.ledger import service as ledger
from bridge.redemption.jobs import run_recover
from bridge.storage import db
from bridge.storage.clock import utcnow
from tests.redemption.conftest import Club, club_config, seed_member, token_for


def _spend(club: Club, points: int, key: str, member_id: int | None = None) -> Any:
    with db.write(club.bridge.rt.engine) as conn:
        return ledger.spend(
            conn,
            program_id="club",
            member_id=member_id or club.member_id,
            points=points,
            idempotency_key=key,
            cause_type="test",
            cause_id=key,
        )


def test_spend_is_idempotent_refuses_overdraft_and_conflicting_replays(club: Club) -> None:
    entry, created = _spend(club, 1500, "s-1")
    assert created and entry.points == -1500
    again, created = _spend(club, 1500, "s-1")  # a replay after the balance dropped is still the same spend
    assert not created and again.id == entry.id
    assert club.available() == 500
    with pytest.raises(InsufficientPoints):
        _spend(club, 501, "s-2")
    with pytest.raises(IdempotencyConflict):
        _spend(club, 100, "s-1")
    with pytest.raises(UnknownMember):
        _spend(club, 1, "s-3", member_id=999_999)
    assert club.available() == 500


def test_returns_point_at_their_spend_and_never_exceed_it(club: Club) -> None:
    spend, _ = _spend(club, 300, "s-1")
    with db.write(club.bridge.rt.engine) as conn:
        back, _ = ledger.return_spent(
            conn, spend=spend, points=100, idempotency_key="r-1", cause_type="test", cause_id="1"
        )
        assert back.reverses_entry_id == spend.id and back.kind == "spend"
        assert ledger.returned_points(conn, spend.id) == 100
        with pytest.raises(ValueError):
            ledger.return_spent(conn, spend=spend, points=301, idempotency_key="r-2", cause_type="t", cause_id="")
        assert ledger.balance(conn, club.member_id).lifetime == 2000  # a return is not new earning


def test_redeeming_is_rate_limited_per_member(make_club: Any) -> None:
    club = make_club(rate_limit_per_minute=2)
    assert club.redeem("monthly").status_code == 201
    assert club.redeem("monthly").status_code == 201
    limited = club.redeem("five-off")
    assert limited.status_code == 429 and limited.get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in limited.headers
    assert club.available() == 1800


def test_without_redis_a_slow_redemption_is_finished_by_the_recovery_sweep(make_bridge: Any, woo_shop: Any) -> None:
    # Redis refuses connections: no job can be enqueued (and the rate limit fails open)
    bridge = make_bridge(redis_url="redis://127.0.0.1:1/0", **club_config(inline_wait_seconds=0.1))
    club = Club(bridge, woo_shop, seed_member(bridge, 2000), token_for(bridge))
    woo_shop.fail_next("POST", "coupons", status=502)

    response = club.redeem("five-off")

    assert response.status_code == 202
    red_id = response.get_json()["redemption"]["id"]
    assert club.redemption(red_id).state == "reserved"
    assert run_recover(bridge.rt, utcnow() + timedelta(minutes=1)) == {"issued": 1}
    assert club.redemption(red_id).state == "issued" and len(woo_shop.coupons) == 1
    assert woo_shop.calls == [("POST", "coupons"), ("GET", "coupons"), ("POST", "coupons")]


def test_the_worker_scheduler_runs_the_redemption_jobs(club: Club) -> None:
    ran = schedule.run_due(club.bridge.rt, {}, 0.0)
    assert {"redemption.recover", "redemption.expire"} <= set(ran)


def test_the_redemptions_command_lists_and_runs_the_jobs(club: Club, tmp_path: Any) -> None:
    from click.testing import CliRunner

    from bridge.cli import cli

    red = club.redeem("five-off").get_json()["redemption"]
    runner = CliRunner()
    config = str(tmp_path / "config.yaml")
    listed = runner.invoke(cli, ["--config", config, "redemptions", "list", "--state", "issued", "--json"], obj={})
    assert listed.exit_code == 0, listed.output
    (line,) = listed.output.strip().splitlines()
    assert f'"id": {red["id"]}' in line and '"state": "issued"' in line and red["code"] not in line
    recovered = runner.invoke(cli, ["--config", config, "redemptions", "recover"], obj={})
    assert recovered.exit_code == 0 and recovered.output.strip() == "{}"

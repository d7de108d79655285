"""A small club whose every report figure is worked out by hand (tests/reports/test_reports_by_hand.py).

Written through the services the bridge writes with (members.resolve, the ledger's post/spend/return/adjust, the
order, redemption and referral stores), each at its own moment of a pinned clock, in UTC days. The report range
is August to October 2026 (three months); a few rows fall before and after it on purpose.

Members (created): Alice 07-10, Bob 08-05, Cara 09-12, Finn 09-20 (referred by Alice), Dan 10-20, Eve 11-05.

Ledger, by day (points; a = available, p = pending; redemptions r1.. below):
    07-10 Alice earn +1000a              07-20 Alice earn +200p
    08-03 Alice release -200p +200a      08-05 Bob earn +500a
    08-10 Alice spend -500 (r1)          08-15 Bob earn +300p
    08-20 Bob adjust +50 (no shop)
    09-12 Cara earn +1000a               09-15 Alice expire -300
    09-18 Bob reverse -100p (refund)     09-20 Finn earn +100a
    09-25 Cara spend -400 (r2)           09-28 Alice referral +250a
    10-01 Bob release -200p +200a        10-02 Bob spend -300 (r3)
    10-05 Cara spend -500 (r4)           10-12 Bob spend -300 (r7)
    10-20 Bob spend +300 (r3's coupon expired: given back)
    10-20 Dan earn +400p                 10-21 Cara spend -100, +100 (r5 failed)
    10-25 Bob adjust -40 (no shop)       10-30 Cara expire -100
    11-05 Eve earn +600a                 11-10 Alice spend -200 (r6)

Orders (paid; total / refunded): A-1 Alice 07-10 100.00; A-2 Alice 08-10 60.00 (r1); B-1 Bob 08-05 50.00;
B-2 Bob 08-15 30.00 / 10.00; B-3 Bob 10-12 22.00 (r7); C-1 Cara 09-25 40.00 (r2); X-1 Cara 10-07 cancelled;
F-1 Finn 09-20 25.00; F-2 Finn 10-15 35.00 refunded (status); G-1 guest 09-01 20.00; G-2 guest 10-10 15.00
(no e-mail: no member); E-1 Eve 11-05 70.00.

Redemptions: r1 Alice five-off 500 "5.00" used (A-2); r2 Cara any-amount 400 "1.60" used (C-1); r3 Bob ten-pct
300 "10" expired; r4 Cara five-off 500 issued (open); r5 Cara any-amount 100 "0.40" failed; r6 Alice any-amount
200 "0.80" used 11-10 (E: after the range); r7 Bob ship 300 (no value) used (B-3).

Referrals: ref5 Alice -> Cara created 07-15 invited; ref1 Alice -> Finn 09-18 qualified (ordered 09-20, F-1
25.00, qualified 10-10); ref2 Alice -> a stranger 10-03 invited; ref3 Bob -> 10-08 rejected (self);
ref4 Bob -> 10-09 failed. Clicks: 07-14, 09-17 (x2), 10-02.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from bridge.ledger import service as ledger
from bridge.ledger.model import Entry, EntryKind, EntryState, NewEntry
from bridge.members import service as members
from bridge.storage import clock, db
from bridge.storage import orders as order_store
from bridge.storage import redemptions as redemption_store
from bridge.storage import referrals as referral_store
from tests.support.client import SHOP, Bridge

FIRST, LAST = date(2026, 8, 1), date(2026, 10, 31)
PERSIAN_SHIPPING = "ارسال رایگان"  # the free-shipping reward's title: a CSV must carry it intact
REWARDS = [
    {"id": "five-off", "title": "5.00 off", "type": "fixed_cart", "points": 500, "value": "5.00"},
    {
        "id": "any-amount",
        "title": "Points as money",
        "type": "variable",
        "step": 100,
        "min_points": 100,
        "max_points": 2000,
        "currency_per_point": "0.004",
    },
    {"id": "ten-pct", "title": "10% off", "type": "percent", "points": 300, "value": "10"},
    {"id": "ship", "title": PERSIAN_SHIPPING, "type": "free_shipping", "points": 300},
]
PROGRAM = {"timezone": "UTC", "rewards": REWARDS}


@dataclass(frozen=True)
class Fixed:
    moment: datetime

    def now(self) -> datetime:
        return self.moment


def at(day: str, hour: int = 10) -> datetime:
    """Set the clock to ``2026-<day>`` at ``hour`` UTC (the autouse fixture restores the test clock)."""
    moment = datetime.fromisoformat(f"2026-{day}T{hour:02d}:00:00+00:00")
    clock.install(Fixed(moment))
    return moment


Ids = dict[str, int]
Fn = Callable[[Connection, Ids], object]


@dataclass
class Club:
    bridge: Bridge
    ids: dict[str, int]


def build(bridge: Bridge, *, roll_up_at: tuple[datetime, ...] = ()) -> Club:
    """Write the dataset; the rollup job runs at each of ``roll_up_at`` once the rows before it are written."""
    from bridge.reports.jobs import run_rollup

    rt = bridge.rt
    ids: dict[str, int] = {}
    pending_rollups = sorted(roll_up_at)
    for moment, step in _steps():
        while pending_rollups and pending_rollups[0] <= moment:
            run_rollup(rt, pending_rollups.pop(0))
        clock.install(Fixed(moment))
        with db.write(rt.engine) as conn:
            step(conn, ids)
    for when in pending_rollups:
        run_rollup(rt, when)
    return Club(bridge, ids)


def _steps() -> list[tuple[datetime, Fn]]:
    steps: list[tuple[datetime, Fn]] = []

    def on(day: str, hour: int = 10) -> Callable[[Fn], Fn]:
        def add(fn: Fn) -> Fn:
            steps.append((datetime.fromisoformat(f"2026-{day}T{hour:02d}:00:00+00:00"), fn))
            return fn

        return add

    def member(conn: Connection, ids: dict[str, int], name: str, customer: str | None = None) -> int:
        found = members.resolve(conn, "club", SHOP, customer or name, f"{name}@example.com")
        assert found is not None
        ids[name] = found
        return found

    def post(
        conn: Connection, ids: dict[str, int], name: str, points: int, kind: EntryKind, key: str, **kw: Any
    ) -> None:
        ledger.post(conn, NewEntry("club", ids[name], points, kind, key, shop_id=kw.pop("shop_id", SHOP), **kw))

    def spend(conn: Connection, ids: dict[str, int], name: str, points: int, key: str) -> Entry:
        entry, _ = ledger.spend(
            conn,
            program_id="club",
            member_id=ids[name],
            points=points,
            idempotency_key=key,
            cause_type="redemption",
            cause_id=key,
            shop_id=SHOP,
        )
        return entry

    def order(conn: Connection, ids: dict[str, int], order_id: str, name: str | None, total: str, **kw: Any) -> None:
        now = clock.utcnow()
        state = order_store.lock_or_create(conn, "club", SHOP, order_id, now)
        values = {
            "member_id": ids[name] if name else None,
            "status": "completed",
            "total": total,
            "refunded_total": "0",
            "paid_at": now,
            "updated_at": now,
        }
        values.update(kw)
        order_store.save(conn, state.id, **values)

    def redemption(
        conn: Connection,
        ids: dict[str, int],
        key: str,
        name: str,
        reward: str,
        points: int,
        value: str | None,
        state: str,
        order_id: str | None = None,
    ) -> None:
        now = clock.utcnow()
        reward_type = {
            "five-off": "fixed_cart",
            "any-amount": "variable",
            "ten-pct": "percent",
            "ship": "free_shipping",
        }[reward]
        title = {r["id"]: r["title"] for r in REWARDS}[reward]
        redemption_store.insert(
            conn,
            {
                "program_id": "club",
                "shop_id": SHOP,
                "member_id": ids[name],
                "request_key": key,
                "reward_id": reward,
                "reward_type": reward_type,
                "title": title,
                "points": points,
                "value": value,
                "code": f"CODE-{key}",
                "state": state,
                "coupon_body": {},
                "channel": "widget",
                "actor": "",
                "attempts": 1,
                "next_attempt_at": now,
                "expires_at": now + timedelta(days=30),
                "created_at": now,
                "updated_at": now,
                "issued_at": None if state == "failed" else now,
                "order_id": order_id,
            },
        )

    def referral(
        conn: Connection, ids: dict[str, int], key: str, referrer: str, friend: str | None, state: str, **kw: Any
    ) -> None:
        now = clock.utcnow()
        referral_store.insert_referral(
            conn,
            {
                "program_id": "club",
                "shop_id": SHOP,
                "referrer_member_id": ids[referrer],
                "code": referrer.upper(),
                "friend_key": f"{key}@example.com",
                "friend_email": f"{key}@example.com",
                "friend_member_id": ids[friend] if friend else None,
                "state": state,
                "reason": kw.pop("reason", ""),
                "coupon_code": f"FRIEND-{key}",
                "coupon_expires_at": now + timedelta(days=30),
                "created_at": now,
                "updated_at": kw.pop("updated_at", now),
                **kw,
            },
        )

    def click(conn: Connection, ids: dict[str, int]) -> None:
        referral_store.add_click(
            conn,
            program_id="club",
            shop_id=SHOP,
            code="ALICE",
            member_id=ids["alice"],
            ip_hash="i",
            ua_hash="u",
            created_at=clock.utcnow(),
        )

    def ts(day: str, hour: int = 10) -> datetime:
        return datetime.fromisoformat(f"2026-{day}T{hour:02d}:00:00+00:00")

    A, R, E, S, X, D = (
        EntryKind.EARN,
        EntryKind.RELEASE,
        EntryKind.EXPIRE,
        EntryKind.SPEND,
        EntryKind.REVERSE,
        EntryKind.ADJUST,
    )
    P = EntryState.PENDING

    @on("07-10")
    def _(c: Connection, i: Ids) -> None:
        member(c, i, "alice")
        post(c, i, "alice", 1000, A, "a-earn-1")
        order(c, i, "A-1", "alice", "100.00")

    on("07-14")(lambda c, i: click(c, i))
    on("07-20")(lambda c, i: post(c, i, "alice", 200, A, "a-earn-2", state=P))

    @on("08-03")
    def _(c: Connection, i: Ids) -> None:
        post(c, i, "alice", -200, R, "a-rel-p", state=P)
        post(c, i, "alice", 200, R, "a-rel-a")

    @on("08-05")
    def _(c: Connection, i: Ids) -> None:
        member(c, i, "bob")
        post(c, i, "bob", 500, A, "b-earn-1")
        order(c, i, "B-1", "bob", "50.00")

    @on("08-10")
    def _(c: Connection, i: Ids) -> None:
        spend(c, i, "alice", 500, "r1")
        order(c, i, "A-2", "alice", "60.00")
        redemption(c, i, "r1", "alice", "five-off", 500, "5.00", "used", "A-2")

    @on("08-15")
    def _(c: Connection, i: Ids) -> None:
        post(c, i, "bob", 300, A, "b-earn-2", state=P)
        order(c, i, "B-2", "bob", "30.00", refunded_total="10.00")

    on("08-20")(
        lambda c, i: ledger.adjust(
            c, program_id="club", member_id=i["bob"], points=50, reason="goodwill", actor="t", request_key="adj-1"
        )
    )
    on("09-01")(lambda c, i: order(c, i, "G-1", None, "20.00"))

    @on("09-12")
    def _(c: Connection, i: Ids) -> None:
        member(c, i, "cara")
        post(c, i, "cara", 1000, A, "c-earn-1")

    @on("09-12", 11)
    def _(c: Connection, i: Ids) -> None:  # Cara was invited by Alice in July, before she had a member row
        clock.install(Fixed(ts("07-15")))
        referral(c, i, "ref5", "alice", "cara", "invited", updated_at=ts("09-12", 11))

    on("09-15")(lambda c, i: post(c, i, "alice", -300, E, "a-exp-1"))

    @on("09-17")
    def _(c: Connection, i: Ids) -> None:
        click(c, i)
        click(c, i)

    on("09-18")(lambda c, i: post(c, i, "bob", -100, X, "b-rev-1", state=P))

    @on("09-18", 12)
    def _(c: Connection, i: Ids) -> None:
        member(c, i, "finn")  # the friend: a member row once the claim is made
        referral(
            c,
            i,
            "ref1",
            "alice",
            "finn",
            "qualified",
            ordered_at=ts("09-20"),
            qualified_at=ts("10-10"),
            order_id="F-1",
            order_total="25.00",
            updated_at=ts("10-10"),
        )

    @on("09-20")
    def _(c: Connection, i: Ids) -> None:
        post(c, i, "finn", 100, A, "f-earn-1")
        order(c, i, "F-1", "finn", "25.00")

    @on("09-25")
    def _(c: Connection, i: Ids) -> None:
        spend(c, i, "cara", 400, "r2")
        order(c, i, "C-1", "cara", "40.00")
        redemption(c, i, "r2", "cara", "any-amount", 400, "1.60", "used", "C-1")

    on("09-28")(lambda c, i: post(c, i, "alice", 250, EntryKind.REFERRAL, "a-ref-1"))

    @on("10-01")
    def _(c: Connection, i: Ids) -> None:
        post(c, i, "bob", -200, R, "b-rel-p", state=P)
        post(c, i, "bob", 200, R, "b-rel-a")

    @on("10-02")
    def _(c: Connection, i: Ids) -> None:
        i["r3"] = spend(c, i, "bob", 300, "r3").id
        redemption(c, i, "r3", "bob", "ten-pct", 300, "10", "expired")
        click(c, i)

    on("10-03")(lambda c, i: referral(c, i, "ref2", "alice", None, "invited"))

    @on("10-05")
    def _(c: Connection, i: Ids) -> None:
        spend(c, i, "cara", 500, "r4")
        redemption(c, i, "r4", "cara", "five-off", 500, "5.00", "issued")

    on("10-07")(lambda c, i: order(c, i, "X-1", "cara", "80.00", status="cancelled"))
    on("10-08")(lambda c, i: referral(c, i, "ref3", "bob", None, "rejected", reason="self", rejected_at=ts("10-08")))
    on("10-09")(lambda c, i: referral(c, i, "ref4", "bob", None, "failed"))
    on("10-10")(lambda c, i: order(c, i, "G-2", None, "15.00"))

    @on("10-12")
    def _(c: Connection, i: Ids) -> None:
        spend(c, i, "bob", 300, "r7")
        order(c, i, "B-3", "bob", "22.00")
        redemption(c, i, "r7", "bob", "ship", 300, None, "used", "B-3")

    on("10-15")(lambda c, i: order(c, i, "F-2", "finn", "35.00", status="refunded", refunded_total="35.00"))

    @on("10-20")
    def _(c: Connection, i: Ids) -> None:
        r3 = ledger.entry(c, i["r3"])
        assert r3 is not None
        ledger.return_spent(c, spend=r3, points=300, idempotency_key="r3-back", cause_type="redemption", cause_id="r3")
        member(c, i, "dan")
        post(c, i, "dan", 400, A, "d-earn-1", state=P)

    @on("10-21")
    def _(c: Connection, i: Ids) -> None:
        entry = spend(c, i, "cara", 100, "r5")
        ledger.return_spent(
            c, spend=entry, points=100, idempotency_key="r5-back", cause_type="redemption", cause_id="r5"
        )
        redemption(c, i, "r5", "cara", "any-amount", 100, "0.40", "failed")

    on("10-25")(
        lambda c, i: ledger.adjust(
            c, program_id="club", member_id=i["bob"], points=-40, reason="fix", actor="t", request_key="adj-2"
        )
    )
    on("10-30")(lambda c, i: post(c, i, "cara", -100, E, "c-exp-1"))

    @on("11-05")
    def _(c: Connection, i: Ids) -> None:
        member(c, i, "eve")
        post(c, i, "eve", 600, A, "e-earn-1")
        order(c, i, "E-1", "eve", "70.00")

    @on("11-10")
    def _(c: Connection, i: Ids) -> None:
        spend(c, i, "alice", 200, "r6")
        order(c, i, "A-3", "alice", "30.00")
        redemption(c, i, "r6", "alice", "any-amount", 200, "0.80", "used", "A-3")

    del S, D
    steps.sort(key=lambda step: step[0])
    return steps

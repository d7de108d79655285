"""The console Overview's figures, each defined exactly where it is computed.

Every figure is read in one transaction: the day rollups (``bridge.reports.rollup``) for the days before
``rolled_until`` and the raw rows from then on, so each one equals a recount of the raw tables.
Days are the program's time zone's (``program.earn.timezone``); "now" is ``bridge.storage.clock.utcnow()``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, exists, func, select

from bridge.config import RewardSettings, ShopSettings
from bridge.ledger.model import EntryKind, EntryState
from bridge.reports import rollup
from bridge.reports.days import day_start, each_day, local_day
from bridge.storage import connections as connection_store
from bridge.storage import tables as t

ACTIVE_DAYS = 90
SERIES_DAYS = 90
PERIOD_DAYS = 30
RECONCILE_LAG_WARNING = timedelta(hours=6)

e = t.ledger_entry.c

# (kind, state, direction) -> points: one day's movements, summed over the shops.
Movements = dict[tuple[str, str, str], int]


@dataclass(frozen=True)
class Flow:
    """Points moved during a set of days (entries by their ``created_at``, in the program's days).

    - ``issued``: the net of ``earn`` and ``referral`` entries (awards for orders, sign-up, birthdays, rules,
      referrals), pending or available when written.
    - ``reversed``: points taken back by refunds and cancellations, ``-sum(reverse entries)``.
    - ``adjusted``: the net of manual adjustments (``adjust``), positive or negative.
    - ``redeemed``: points spent on rewards net of points given back (failed, expired or cancelled coupons),
      ``-sum(spend entries)``.
    - ``expired``: ``-sum(expire entries)``.
    - ``released``: points moved out of the hold (pending -> available), the sum of positive ``release`` entries.
    """

    issued: int = 0
    reversed: int = 0
    adjusted: int = 0
    redeemed: int = 0
    expired: int = 0
    released: int = 0

    @classmethod
    def of(cls, movements: Iterable[Movements]) -> Flow:
        sums: dict[str, int] = defaultdict(int)
        for day in movements:
            for (kind, _state, sign), points in day.items():
                sums[kind] += points
                if kind == EntryKind.RELEASE and sign == "+":
                    sums["released"] += points
        return cls(
            issued=sums[EntryKind.EARN] + sums[EntryKind.REFERRAL],
            reversed=-sums[EntryKind.REVERSE],
            adjusted=sums[EntryKind.ADJUST],
            redeemed=-sums[EntryKind.SPEND],
            expired=-sums[EntryKind.EXPIRE],
            released=sums["released"],
        )

    @property
    def redemption_rate(self) -> Decimal | None:
        """``redeemed / issued`` over the same days (4 decimals); None when nothing was issued."""
        if self.issued <= 0:
            return None
        return (Decimal(self.redeemed) / Decimal(self.issued)).quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class Liability:
    """Points owed to members now: the sum of every ledger entry by state, and what they are worth.

    ``point_value`` is the cheapest currency per point a member can get from the enabled rewards: a fixed
    amount-off reward's ``value / points``, a variable reward's ``currency_per_point`` (percent-off and free
    shipping rewards have no fixed worth and are left out). The amounts are ``points x point_value`` rounded
    down to the currency's minor unit; None when no reward gives a value, or the program's shops use several
    currencies.
    """

    available: int
    pending: int
    point_value: Decimal | None
    currency: str | None
    available_value: Decimal | None
    pending_value: Decimal | None


@dataclass(frozen=True)
class ReferralFunnel:
    """Referrals of the program by state (``bridge.referrals``): ``referred`` = every referral that reached the
    friend (not ``claiming``/``failed``), ``ordered`` = those whose friend placed the first order (their
    ``ordered_at`` is set), ``qualified`` = the referrer was rewarded, ``rejected`` = refused with a reason."""

    by_state: dict[str, int]
    referred: int
    ordered: int
    qualified: int
    rejected: int


@dataclass(frozen=True)
class Inbox:
    """Webhook deliveries waiting (``pending``: not processed yet, including retries) and given up (``failed``)."""

    pending: int
    failed: int
    oldest_pending_at: datetime | None


@dataclass(frozen=True)
class Problem:
    """Something to look at in a shop's connection: a stable ``code`` and its details (the console words it).

    Codes: ``not_connected``; ``webhook`` (``topic``, ``status``); ``failed_deliveries`` (``count``);
    ``reconcile_failed`` (``error``); ``reconcile_behind`` (``hours``)."""

    code: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ShopHealth:
    """One shop's connection as the bridge last saw it, without calling the shop (the page must stay fast).

    ``ok`` when the shop is connected, every webhook the bridge registered was last seen ``active``, no
    delivery of the shop has failed, and reconciliation has no error and is at most ``RECONCILE_LAG_WARNING``
    behind; otherwise ``problems`` says what to look at.
    """

    shop_id: str
    connected: bool
    webhooks: dict[str, str]
    last_delivery_at: datetime | None
    pending: int
    failed: int
    reconcile_watermark: datetime | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class DayFigures:
    day: date
    issued: int  # as Flow.issued, that day
    redeemed: int  # as Flow.redeemed, that day
    joined: int  # member rows created that day


@dataclass(frozen=True)
class Overview:
    """``members``: member rows of the program (everyone the club knows, joined or not yet).
    ``active_members``: members with an activity entry (an earn or referral award, or a spend; not a return,
    release, expiry, reversal or adjustment) created in the ``ACTIVE_DAYS`` days before now.
    ``period``: the last ``PERIOD_DAYS`` local days, today included; ``flow`` and the redemption rate cover it.
    ``series``: the last ``SERIES_DAYS`` local days, today included, oldest first."""

    now: datetime
    timezone: str
    members: int
    active_members: int
    period_first: date
    period_last: date
    flow: Flow
    liability: Liability
    referrals: ReferralFunnel
    inbox: Inbox
    shops: list[ShopHealth]
    series: list[DayFigures]
    rolled_until: datetime | None  # where the rollups end and raw rows begin (None: raw rows only)

    @property
    def redemption_rate(self) -> Decimal | None:
        return self.flow.redemption_rate


def overview(
    conn: Connection,
    *,
    program_id: str,
    timezone: str,
    rewards: tuple[RewardSettings, ...],
    shops: tuple[ShopSettings, ...],
    now: datetime,
) -> Overview:
    zone = ZoneInfo(timezone)
    today = local_day(now, zone)
    rolled = _rolled_until(conn, program_id, timezone)
    first = today - timedelta(days=SERIES_DAYS - 1)
    days = list(each_day(first, today + timedelta(days=1)))
    movements = _movements(conn, program_id, zone, days, rolled)
    joined = _joined(conn, program_id, zone, days, rolled)
    period_first = today - timedelta(days=PERIOD_DAYS - 1)
    inbox, per_shop = _inbox(conn, program_id)
    return Overview(
        now=now,
        timezone=timezone,
        members=_members(conn, program_id, rolled),
        active_members=active_members(conn, program_id, now - timedelta(days=ACTIVE_DAYS), rolled),
        period_first=period_first,
        period_last=today,
        flow=Flow.of(movements[day] for day in days if day >= period_first),
        liability=_liability(conn, program_id, zone, rolled, rewards, shops),
        referrals=_referrals(conn, program_id),
        inbox=inbox,
        shops=[_shop_health(conn, shop.id, per_shop, now) for shop in shops],
        series=[
            DayFigures(day, flow.issued, flow.redeemed, joined.get(day, 0))
            for day in days
            for flow in [Flow.of([movements[day]])]
        ],
        rolled_until=rolled,
    )


def _rolled_until(conn: Connection, program_id: str, timezone: str) -> datetime | None:
    current = rollup.state(conn, program_id)
    if current is None or current.timezone != timezone:
        return None  # no rollup in this zone yet: raw rows only (exact, slower)
    return current.rolled_until


def _movements(
    conn: Connection, program_id: str, zone: ZoneInfo, days: list[date], rolled: datetime | None
) -> dict[date, Movements]:
    out: dict[date, Movements] = {day: defaultdict(int) for day in days}
    first_raw = days[0]
    if rolled is not None:
        first_raw = max(days[0], local_day(rolled, zone))
        p = t.report_daily_points.c
        stmt = (
            select(p.day, p.kind, p.state, p.direction, func.sum(p.points))
            .where(p.program_id == program_id, p.day >= days[0], p.day < first_raw)
            .group_by(p.day, p.kind, p.state, p.direction)
        )
        for day, kind, state, sign, points in conn.execute(stmt):
            out[day][(kind, state, sign)] += int(points)
    for day in each_day(first_raw, days[-1] + timedelta(days=1)):
        lo, hi = day_start(day, zone), day_start(day + timedelta(days=1), zone)
        for _shop, kind, state, sign, points, _n in conn.execute(rollup.points_by_kind(program_id, lo, hi)):
            out[day][(kind, state, sign)] += int(points)
    return out


def _joined(
    conn: Connection, program_id: str, zone: ZoneInfo, days: list[date], rolled: datetime | None
) -> dict[date, int]:
    out: dict[date, int] = {}
    first_raw = days[0]
    m = t.member.c
    if rolled is not None:
        first_raw = max(days[0], local_day(rolled, zone))
        d = t.report_daily_members.c
        stmt = select(d.day, d.joined).where(d.program_id == program_id, d.day >= days[0], d.day < first_raw)
        out.update((day, int(n)) for day, n in conn.execute(stmt))
    for day in each_day(first_raw, days[-1] + timedelta(days=1)):
        lo, hi = day_start(day, zone), day_start(day + timedelta(days=1), zone)
        count = conn.scalar(
            select(func.count()).where(m.program_id == program_id, m.created_at >= lo, m.created_at < hi)
        )
        if count:
            out[day] = int(count)
    return out


def _members(conn: Connection, program_id: str, rolled: datetime | None) -> int:
    m, d = t.member.c, t.report_daily_members.c
    if rolled is None:
        return int(conn.scalar(select(func.count()).where(m.program_id == program_id)) or 0)
    before = conn.scalar(select(func.coalesce(func.sum(d.joined), 0)).where(d.program_id == program_id))
    since = conn.scalar(select(func.count()).where(m.program_id == program_id, m.created_at >= rolled))
    return int(before or 0) + int(since or 0)


def active_members(conn: Connection, program_id: str, since: datetime, rolled: datetime | None) -> int:
    """Members with an activity entry created at or after ``since`` (see ``Overview``).

    ``report_member_activity`` holds each member's latest activity before ``rolled_until``; the raw entries from
    then on add the members it does not already count."""
    a = t.report_member_activity.c
    counted = conn.scalar(select(func.count()).where(a.program_id == program_id, a.last_active_at >= since))
    tail_from = since if rolled is None else max(since, rolled)
    already = exists().where(a.member_id == e.member_id, a.last_active_at >= since)
    tail = conn.scalar(
        select(func.count(func.distinct(e.member_id))).where(
            e.program_id == program_id, e.created_at >= tail_from, rollup.activity(), ~already
        )
    )
    return int(counted or 0) + int(tail or 0)


def _liability(
    conn: Connection,
    program_id: str,
    zone: ZoneInfo,
    rolled: datetime | None,
    rewards: tuple[RewardSettings, ...],
    shops: tuple[ShopSettings, ...],
) -> Liability:
    sums: dict[str, int] = defaultdict(int)
    tail = select(e.state, func.sum(e.points)).where(e.program_id == program_id)
    if rolled is not None:
        p = t.report_daily_points.c
        rolled_day_rows = conn.execute(
            select(p.state, func.sum(p.points))
            .where(p.program_id == program_id, p.day < local_day(rolled, zone))
            .group_by(p.state)
        )
        for state, points in rolled_day_rows:
            sums[state] += int(points)
        tail = tail.where(e.created_at >= rolled)
    for state, points in conn.execute(tail.group_by(e.state)):
        sums[state] += int(points or 0)
    available, pending = sums[EntryState.AVAILABLE], sums[EntryState.PENDING]
    value = point_value(rewards)
    currencies = {(shop.currency, shop.minor_unit) for shop in shops}
    if value is None or len(currencies) != 1:
        return Liability(available, pending, value, None, None, None)
    ((currency, minor_unit),) = currencies
    quantum = Decimal(1).scaleb(-minor_unit)

    def worth(points: int) -> Decimal:
        assert value is not None
        return (value * points).quantize(quantum, rounding=ROUND_DOWN)

    return Liability(available, pending, value, currency, worth(available), worth(pending))


def point_value(rewards: tuple[RewardSettings, ...]) -> Decimal | None:
    """The cheapest currency per point among the enabled rewards (see ``Liability``)."""
    values = []
    for reward in rewards:
        if not reward.enabled:
            continue
        if reward.is_variable and reward.currency_per_point > 0:
            values.append(reward.currency_per_point)
        elif reward.type == "fixed_cart" and reward.points > 0 and reward.value > 0:
            values.append(reward.value / reward.points)
    return min(values) if values else None


def _referrals(conn: Connection, program_id: str) -> ReferralFunnel:
    r = t.referral.c
    rows = conn.execute(
        select(r.state, func.count(), func.count(r.ordered_at)).where(r.program_id == program_id).group_by(r.state)
    ).all()
    by_state = {str(state): int(n) for state, n, _ in rows}
    return ReferralFunnel(
        by_state=by_state,
        referred=sum(n for state, n in by_state.items() if state not in ("claiming", "failed")),
        ordered=sum(int(ordered) for _, _, ordered in rows),
        qualified=by_state.get("qualified", 0),
        rejected=by_state.get("rejected", 0),
    )


def _inbox(conn: Connection, program_id: str) -> tuple[Inbox, dict[tuple[str, str], int]]:
    d = t.inbox_delivery.c
    waiting = and_(d.program_id == program_id, d.state.in_(("pending", "failed")))
    per_shop = {
        (str(shop), str(state)): int(n)
        for shop, state, n in conn.execute(
            select(d.shop_id, d.state, func.count()).where(waiting).group_by(d.shop_id, d.state)
        )
    }
    oldest = conn.scalar(select(func.min(d.received_at)).where(d.program_id == program_id, d.state == "pending"))
    pending = sum(n for (_, state), n in per_shop.items() if state == "pending")
    failed = sum(n for (_, state), n in per_shop.items() if state == "failed")
    return Inbox(pending, failed, oldest), per_shop


def _shop_health(conn: Connection, shop_id: str, per_shop: dict[tuple[str, str], int], now: datetime) -> ShopHealth:
    connection = connection_store.connection(conn, shop_id)
    connected = bool(connection and connection["state"] == connection_store.CONNECTED)
    webhooks = {str(w["topic"]): str(w["status"]) for w in connection_store.webhooks(conn, shop_id)}
    reconcile = connection_store.sync_state(conn, shop_id, "reconcile") or {}
    watermark: datetime | None = reconcile.get("watermark")
    pending, failed = per_shop.get((shop_id, "pending"), 0), per_shop.get((shop_id, "failed"), 0)
    problems = []
    if not connected:
        problems.append(Problem("not_connected"))
    problems += [
        Problem("webhook", {"topic": topic, "status": status})
        for topic, status in sorted(webhooks.items())
        if status != "active"
    ]
    if failed:
        problems.append(Problem("failed_deliveries", {"count": failed}))
    if reconcile.get("last_error"):
        problems.append(Problem("reconcile_failed", {"error": str(reconcile["last_error"])[:200]}))
    elif connected and watermark is not None and now - watermark > RECONCILE_LAG_WARNING:
        problems.append(Problem("reconcile_behind", {"hours": int((now - watermark).total_seconds() // 3600)}))
    return ShopHealth(
        shop_id=shop_id,
        connected=connected,
        webhooks=webhooks,
        last_delivery_at=_last_delivery(conn, shop_id),
        pending=pending,
        failed=failed,
        reconcile_watermark=watermark,
        problems=problems,
    )


def _last_delivery(conn: Connection, shop_id: str) -> datetime | None:
    """When the shop's latest delivery arrived: the newest row of each state, by the (state, id) index."""
    d = t.inbox_delivery.c
    latest: list[Any] = []
    for state in ("pending", "done", "failed"):
        stmt = select(d.received_at).where(d.state == state, d.shop_id == shop_id).order_by(d.id.desc()).limit(1)
        latest.append(conn.scalar(stmt))
    known = [moment for moment in latest if moment is not None]
    return max(known) if known else None

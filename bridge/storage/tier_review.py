"""The nightly tier review in SQL (issue 16): a keyset page of members decided and written in a few statements.

A page is the members with a tier in ``(after, last]`` (``last``: the page's last member id). Its decisions are
made once, into a temporary table (``tier_review_work``, dropped at the page's end): each member's metric over the
current window (and the ended year's: both from one join of the page's members with their rows, grouped), the
level it reaches, and what the review does, as ``CASE`` expressions over the ladder (levels and thresholds are
bound from the settings). The writes then read that table: ``UPDATE ... FROM`` it for tier states, an upsert for
profiles, ``INSERT ... SELECT`` for history,
warnings (``point_event``) and the outbox (``domain_event``, ``ON CONFLICT (key) DO NOTHING``: a rerun writes
nothing twice). The keys and texts are the ones ``bridge.tiers.service`` built member by member before, so a
warning or an event recorded by an older run is never doubled.

Metrics are counted in ten-thousandths (``UNITS``) as integers on both databases: points and orders exactly,
spend (decimal text in ``order_state``) exact to four decimals, never summed as floats. Texts show the number
normalised, as the widget does (``42.9``, ``120``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import ColumnElement

from bridge.storage import tables as t
from bridge.storage.tables import Id, UtcDateTime
from bridge.storage.tiers import CAUSE_TIER, METRIC_KINDS, NOT_SPENDING

UNITS = 10_000  # metrics in ten-thousandths: exact integers for points, orders and money to 4 decimals

# Actions a page's members get (``action``); ``up`` and ``override_end`` go through the service's member-by-member
# paths (an entry bonus is a ledger entry: the ledger's one write path), the rest is written here in bulk.
UP = "up"
OVERRIDE_END = "override_end"
DOWN = "down"
REVIEWED = "reviewed"  # calendar year end reviewed, tier kept
BELOW_NOW = "below_now"  # rolling: fell below their level now (the grace starts)
ABOVE_AGAIN = "above_again"  # rolling: back at their level

_work_metadata = MetaData()
work = Table(
    "tier_review_work",
    _work_metadata,
    Column("member_id", Id, primary_key=True, autoincrement=False),
    Column("tier_id", String(64), nullable=True),
    Column("source", String(16), nullable=False),
    Column("since", UtcDateTime(), nullable=False),
    Column("override_until", UtcDateTime(), nullable=True),
    Column("below_since", UtcDateTime(), nullable=True),
    Column("reviewed_period", String(16), nullable=True),
    Column("cur", Integer, nullable=False),  # the level held (index; -1: none or one no longer configured)
    Column("earned", Integer, nullable=False),  # the level earning gives (during an override)
    Column("metric", BigInteger, nullable=False),  # over the current window, in UNITS
    Column("prev_metric", BigInteger, nullable=False),  # over the ended calendar year, in UNITS
    Column("reached", Integer, nullable=False),  # the level ``metric`` reaches
    Column("prev_reached", Integer, nullable=False),
    Column("action", String(16), nullable=True),
    Column("warn", Boolean, nullable=False, default=False),
    Column("to_idx", Integer, nullable=True),  # a move down: the level moved to
    Column("new_below", UtcDateTime(), nullable=True),  # a rolling move down: below the new level too, from now
    prefixes=["TEMPORARY"],  # the connection's own: created and dropped in each page's transaction
)
w = work.c
mt = t.member_tier.c


@dataclass(frozen=True)
class Ladder:
    """What the statements need of ``program.tiers``: level ids, names and thresholds (in UNITS), by index."""

    program_id: str
    metric: str  # points | spend | orders
    window: str  # lifetime | calendar_year | rolling
    level_ids: tuple[str, ...]
    names: tuple[str, ...]
    thresholds: tuple[Decimal, ...]
    downgrade: str  # one_level | to_qualified

    def units(self, i: int) -> int:
        # a metric (whole UNITS) reaches a threshold iff it reaches the threshold rounded up to whole UNITS
        return math.ceil(self.thresholds[i] * UNITS)


@dataclass(frozen=True)
class Moment:
    """The review's moment and the bounds derived from it (all bound as parameters, computed once in Python)."""

    now: datetime
    start: datetime | None  # the current window [start, end)
    end: datetime | None
    prev_start: datetime | None = None  # the ended calendar year
    prev_end: datetime | None = None
    year_due: bool = False  # calendar year: the ended year is reviewed now (its grace passed)
    ended: str = ""  # its name ("2026")
    year_start: datetime | None = None
    warn_phase: bool = False  # calendar year: within warn_days of the current year's end
    grace: timedelta = timedelta(0)
    warn: timedelta = timedelta(0)


# --- the page ---------------------------------------------------------------------------------------------------
def page_end(conn: Connection, program_id: str, after: int, limit: int) -> int | None:
    """The last member id of the keyset page of members with a tier after ``after`` (None: none left)."""
    page = (
        select(mt.member_id)
        .where(mt.program_id == program_id, mt.member_id > after, mt.tier_id.is_not(None))
        .order_by(mt.member_id)
        .limit(limit)
        .subquery()
    )
    found = conn.scalar(select(func.max(page.c.member_id)))
    return int(found) if found is not None else None


def _bounds(after: int, last: int) -> tuple[Any, Any]:
    """A page's id range written into the statement's text, not bound: psycopg prepares a statement run five
    times, and PostgreSQL may then keep one generic plan for every page; not knowing the page's range, it joined
    a page's members with a sequential scan of the whole ledger (25 s over the 100 pages of 1M members instead of
    3 s). ``plan_cache_mode = force_custom_plan`` would also replan every foreign key check of the inserts (3x)."""
    return literal(after, BigInteger, literal_execute=True), literal(last, BigInteger, literal_execute=True)


def decide(conn: Connection, ladder: Ladder, at: Moment, after: int, last: int) -> int:
    """Fill the work table with the page's members and what the review does to each (one ``INSERT ... SELECT``);
    returns how many."""
    work.drop(conn, checkfirst=True)
    work.create(conn)
    low, high = _bounds(after, last)
    in_page = and_(
        mt.program_id == ladder.program_id, mt.member_id > low, mt.member_id <= high, mt.tier_id.is_not(None)
    )
    metrics = _metrics(ladder.metric, at, low, high)
    base = (
        select(
            mt.member_id,
            mt.tier_id,
            mt.source,
            mt.since,
            mt.override_until,
            mt.below_since,
            mt.reviewed_period,
            _index(ladder, mt.tier_id).label("cur"),
            _index(ladder, mt.earned_tier_id).label("earned"),
            func.coalesce(metrics.c.metric, 0).label("metric"),
            func.coalesce(metrics.c.prev_metric, 0).label("prev_metric"),
        )
        .select_from(t.member_tier.outerjoin(metrics, metrics.c.member_id == mt.member_id))
        .where(in_page)
        .cte("base")
        # computed once per member: inlined, each mention of a metric would compute it again
        .prefix_with("MATERIALIZED")
    )
    reached = select(
        base,
        _reached(ladder, base.c.metric).label("reached"),
        _reached(ladder, base.c.prev_metric).label("prev_reached"),
    ).subquery("reached")
    acted = select(reached, _action(ladder, at, reached.c).label("action")).subquery("acted")
    c = acted.c
    kept = case((c.prev_reached > c.reached, c.prev_reached), else_=c.reached)
    reached_then = kept if ladder.window == "calendar_year" else c.reached
    step = (
        reached_then
        if ladder.downgrade == "to_qualified"
        else case((reached_then > c.cur - 1, reached_then), else_=c.cur - 1)
    )
    to_idx = case((c.action == DOWN, step), else_=null())
    new_below: Any = null()
    if ladder.window == "rolling":
        new_below = case((and_(c.action == DOWN, step > c.reached), literal(at.now, UtcDateTime())), else_=null())
    rows = select(acted, _warn(ladder, at, c), to_idx, new_below)
    names = ["member_id", "tier_id", "source", "since", "override_until", "below_since", "reviewed_period", "cur"]
    names += ["earned", "metric", "prev_metric", "reached", "prev_reached", "action", "warn", "to_idx", "new_below"]
    conn.execute(insert(work).from_select(names, rows))
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE tier_review_work")  # a temporary table has no statistics otherwise
    return int(conn.scalar(select(func.count()).select_from(work)) or 0)  # rowcount: psycopg may say -1


def _action(ladder: Ladder, at: Moment, c: Any) -> ColumnElement[Any]:
    override = c.source == "override"
    whens: list[tuple[Any, Any]] = [
        (and_(override, c.override_until <= at.now), OVERRIDE_END),
        (and_(override, c.reached > c.earned), UP),
        (override, null()),
        (c.reached > c.cur, UP),
    ]
    if ladder.window == "calendar_year" and at.year_due:
        not_reviewed = or_(c.reviewed_period.is_(None), c.reviewed_period != at.ended)
        kept = case((c.prev_reached > c.reached, c.prev_reached), else_=c.reached)
        whens += [
            (and_(not_reviewed, kept < c.cur, c.since < at.year_start), DOWN),
            (not_reviewed, REVIEWED),
        ]
    elif ladder.window == "rolling":
        below = func.coalesce(c.below_since, literal(at.now, UtcDateTime()))
        whens += [
            (and_(c.reached >= c.cur, c.below_since.is_not(None)), ABOVE_AGAIN),
            (c.reached >= c.cur, null()),
            (below <= at.now - at.grace, DOWN),
            (c.below_since.is_(None), BELOW_NOW),
        ]
    return case(*whens, else_=null())


def _warn(ladder: Ladder, at: Moment, c: Any) -> ColumnElement[Any]:
    """Whether the member gets a ``tier_downgrade_warning`` (recorded once per key; a repeat writes nothing): below
    their level, neither moving (up or down) nor overridden, and within ``warn_days`` of the date it is due."""
    kept = and_(c.source != "override", c.reached < c.cur, or_(c.action.is_(None), c.action != DOWN))
    if ladder.window == "calendar_year" and at.warn_phase:
        return case((kept, True), else_=False)
    if ladder.window == "rolling":
        below = func.coalesce(c.below_since, literal(at.now, UtcDateTime()))
        return case((and_(kept, below <= at.now - at.grace + at.warn), True), else_=False)
    return literal(False)


def members_with(conn: Connection, actions: Sequence[str]) -> dict[int, str]:
    """The page's members the service handles one by one (moves up, overrides ending), with their action."""
    rows = conn.execute(select(w.member_id, w.action).where(w.action.in_(list(actions))).order_by(w.member_id))
    return {int(member_id): str(action) for member_id, action in rows}


def moved_down(conn: Connection) -> int:
    """How many of the page's members the review moves down."""
    return int(conn.scalar(select(func.count()).where(w.action == DOWN)) or 0)


def finish(conn: Connection) -> None:
    work.drop(conn)


# --- the writes -------------------------------------------------------------------------------------------------
def write(conn: Connection, ladder: Ladder, at: Moment, event_now: datetime, after: int, last: int) -> int:
    """Write the page's decisions (all but ``up`` and ``override_end``); returns how many warnings were new.

    ``event_now``: the outbox's ``created_at`` (the bridge clock, as ``bridge.notifications.outbox`` stamps)."""
    _states(conn, ladder, at, after, last)
    _moves(conn, ladder, at, event_now)
    return _warnings(conn, ladder, at, event_now)


def _states(conn: Connection, ladder: Ladder, at: Moment, after: int, last: int) -> None:
    """Every tier state the page changes, in one ``UPDATE ... FROM`` the work table: years reviewed, graces started
    or cleared, moves down."""
    down = w.action == DOWN
    reviewed = [REVIEWED, DOWN] if ladder.window == "calendar_year" else [REVIEWED]
    to_tier = _level_id(ladder, w.to_idx)
    now = literal(at.now, UtcDateTime())
    below: list[tuple[Any, Any]] = [(w.action == BELOW_NOW, now), (w.action == ABOVE_AGAIN, null())]
    if ladder.window == "rolling":
        below.append((down, w.new_below))  # still below the level moved to: a new grace from now
    values = {
        "tier_id": case((down, to_tier), else_=mt.tier_id),
        "earned_tier_id": case((down, to_tier), else_=mt.earned_tier_id),
        "since": case((down, now), else_=mt.since),
        "reviewed_period": case((w.action.in_(reviewed), literal(at.ended, String(16))), else_=mt.reviewed_period),
        "below_since": case(*below, else_=mt.below_since),
        "updated_at": at.now,
    }
    changed = w.action.in_([REVIEWED, BELOW_NOW, ABOVE_AGAIN, DOWN])
    low, high = _bounds(after, last)
    in_page = and_(mt.member_id > low, mt.member_id <= high)  # the page's id range: never a scan of them all
    conn.execute(update(t.member_tier).where(in_page, mt.member_id == w.member_id, changed).values(**values))


def _moves(conn: Connection, ladder: Ladder, at: Moment, event_now: datetime) -> None:
    now = at.now
    to_tier = _level_id(ladder, w.to_idx)
    details: Any
    if ladder.window == "calendar_year":
        details = _json(conn, period=_text(at.ended), metric=_text(ladder.metric), value=_number(w.prev_metric))
    else:
        below = _iso(conn, w.below_since, at.now)
        details = _json(conn, below_since=below, metric=_text(ladder.metric), value=_number(w.metric))
    down = w.action == DOWN
    history = select(
        literal(ladder.program_id, String(64)),
        w.member_id,
        w.tier_id,
        to_tier,
        literal("review", String(32)),
        literal("", String(200)),
        details,
        literal(now, UtcDateTime()),
    ).where(down)
    columns = ["program_id", "member_id", "from_tier", "to_tier", "reason", "actor", "details", "created_at"]
    conn.execute(insert(t.member_tier_history).from_select(columns, history.order_by(w.member_id)))

    # the profile the rules engine reads (its earning multiplier): one upsert
    profiles = select(w.member_id, literal(ladder.program_id, String(64)), to_tier, literal(now, UtcDateTime())).where(
        down
    )
    insert_ = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    upsert = insert_(t.member_profile).from_select(["member_id", "program_id", "tier", "updated_at"], profiles)
    excluded = upsert.excluded
    upsert = upsert.on_conflict_do_update(
        index_elements=["member_id"], set_={"tier": excluded.tier, "updated_at": excluded.updated_at}
    )
    conn.execute(upsert)

    # the member's message: tier_down (a move down is always to a lower level), keyed on the change
    key = _concat(
        ladder.program_id + ":tier:",
        cast(w.member_id, Text),
        ":",
        w.tier_id,
        ":",
        func.coalesce(to_tier, "None"),
        ":" + now.isoformat(),
    )
    payload = _json(
        conn,
        from_tier=w.tier_id,
        to_tier=to_tier,
        tier_name=func.coalesce(_level_name(ladder, w.to_idx), ""),
        reason=_text("review"),
    )
    _outbox(conn, ladder, "tier_down", key, payload, down, event_now)


def _warnings(conn: Connection, ladder: Ladder, at: Moment, event_now: datetime) -> int:
    warned = w.warn.is_(True)
    level_id = _level_id(ladder, w.cur)
    gap = _threshold(ladder, w.cur) - w.metric
    needed = case((gap > 0, gap), else_=0)
    if ladder.window == "calendar_year":
        assert at.end is not None
        due: Any = literal(at.end, UtcDateTime())
        by: Any = _text(at.end.isoformat())
        assert at.year_start is not None
        period: Any = _text(str(at.year_start.year))
    else:
        due = case(
            (w.below_since.is_(None), literal(at.now + at.grace, UtcDateTime())),
            else_=_plus(conn, w.below_since, at.grace),
        )
        by = case(
            (w.below_since.is_(None), _text((at.now + at.grace).isoformat())),
            else_=_iso(conn, _plus(conn, w.below_since, at.grace), at.now),
        )
        period = _iso(conn, w.below_since, at.now)
    key = _concat(f"{ladder.program_id}:tier_downgrade_warning:", cast(w.member_id, Text), ":", level_id, ":", period)
    details = _json(conn, tier=level_id, metric=_text(ladder.metric), needed=_number(needed), by=by)
    points: Any = needed // UNITS if ladder.metric == "points" else literal(0, BigInteger)
    events = select(
        literal(ladder.program_id, String(64)),
        w.member_id,
        literal("tier_downgrade_warning", String(32)),
        func.substr(key, 1, 255),
        points,
        due,
        details,
        literal(at.now, UtcDateTime()),
    ).where(warned)
    columns = ["program_id", "member_id", "kind", "event_key", "points", "due_at", "details", "created_at"]
    stmt = _insert_ignore(conn, t.point_event, ["event_key"]).from_select(columns, events.order_by(w.member_id))
    recorded = len(conn.execute(stmt.returning(t.point_event.c.id)).all())
    payload = _json(
        conn,
        tier=level_id,
        metric=_text(ladder.metric),
        needed=_number(needed),
        by=by,
        tier_name=func.coalesce(_level_name(ladder, w.cur), ""),
    )
    _outbox(conn, ladder, "tier_downgrade_warning", key, payload, warned, event_now)
    return recorded


def _outbox(conn: Connection, ladder: Ladder, type_: str, key: Any, payload: Any, which: Any, at: datetime) -> None:
    """``domain_event`` rows as ``bridge.notifications.outbox.add_many`` writes them, each key once ever."""
    rows = select(
        literal(ladder.program_id, String(64)),
        null(),
        w.member_id,
        literal(type_, String(64)),
        func.substr(key, 1, 255),
        payload,
        literal(at, UtcDateTime()),
        null(),
    ).where(which)
    columns = ["program_id", "shop_id", "member_id", "type", "key", "payload", "created_at", "planned_at"]
    conn.execute(_insert_ignore(conn, t.domain_event, ["key"]).from_select(columns, rows.order_by(w.member_id)))


# --- metrics ----------------------------------------------------------------------------------------------------
def _metrics(metric: str, at: Moment, after: Any, last: Any) -> Any:
    """The page's members' metric over the current window (``metric``) and the ended calendar year
    (``prev_metric``; 0 when the window is not a calendar year), in UNITS; members with no row are absent.

    One join of the page's tier rows with their ledger entries (or orders), grouped by member: one index range per
    member (``(member_id, ...)`` indexes) reads its rows once for both windows, each summed where it falls. The join
    is bounded by the page's id range on both sides, so no plan of it reads other members' rows."""
    if metric == "points":
        e = t.ledger_entry.c
        rows: Any = t.ledger_entry
        member_id, moment, value = e.member_id, e.created_at, e.points * UNITS
        conditions = [e.kind.in_(METRIC_KINDS), e.cause_type != CAUSE_TIER]
    else:
        o = t.order_state.c
        rows = t.order_state
        member_id, moment = o.member_id, o.paid_at
        conditions = [o.paid_at.is_not(None), o.status.not_in(NOT_SPENDING)]
        net = _units(o.total) - _units(func.coalesce(o.refunded_total, "0"))
        value = literal(UNITS, BigInteger) if metric == "orders" else case((net > 0, net), else_=0)
    windows = [(at.start, at.end)] + ([(at.prev_start, at.prev_end)] if at.prev_start is not None else [])
    starts = [start for start, _ in windows]
    if None not in starts:
        conditions.append(moment >= min(s for s in starts if s is not None))  # neither window reaches before
    sums = [func.coalesce(func.sum(case((_within(moment, *window), value), else_=0)), 0) for window in windows]
    prev = sums[1] if len(sums) > 1 else literal(0, BigInteger)
    return (
        select(mt.member_id, sums[0].label("metric"), prev.label("prev_metric"))
        .select_from(t.member_tier.join(rows, member_id == mt.member_id))
        .where(mt.member_id > after, mt.member_id <= last, member_id > after, member_id <= last, *conditions)
        .group_by(mt.member_id)
        .subquery("metrics")
    )


def _within(moment: Any, start: datetime | None, end: datetime | None) -> Any:
    """``moment`` in [start, end) (an open side when None), as ``bridge.storage.tiers.in_window`` limits."""
    bounds = ([moment >= start] if start is not None else []) + ([moment < end] if end is not None else [])
    return and_(true(), *bounds)


def _units(text: Any) -> Any:
    """Decimal text as whole UNITS (NUMERIC on PostgreSQL: exact; SQLite has no decimals: rounded to UNITS)."""
    return cast(func.round(cast(text, Numeric(30, 4)) * UNITS), BigInteger)


# --- expressions over the ladder -----------------------------------------------------------------------------------
def _index(ladder: Ladder, tier: Any) -> Any:
    return case({level: i for i, level in enumerate(ladder.level_ids)}, value=tier, else_=-1)


def _reached(ladder: Ladder, metric: Any) -> Any:
    whens = [(metric >= ladder.units(i), i) for i in reversed(range(len(ladder.level_ids)))]
    return case(*whens, else_=-1)


def _level_id(ladder: Ladder, index: Any) -> Any:
    return case({i: literal(level, String(64)) for i, level in enumerate(ladder.level_ids)}, value=index, else_=null())


def _level_name(ladder: Ladder, index: Any) -> Any:
    return case({i: literal(name, String(200)) for i, name in enumerate(ladder.names)}, value=index, else_=null())


def _threshold(ladder: Ladder, index: Any) -> Any:
    whens = {i: literal(ladder.units(i), BigInteger) for i in range(len(ladder.level_ids))}
    return case(whens, value=index, else_=literal(0, BigInteger))


# --- portable text, JSON and time --------------------------------------------------------------------------------
def _text(value: str) -> Any:
    # CAST: PostgreSQL must know a parameter's type inside json_build_object and ||
    return cast(literal(value, Text), Text)


def _concat(*parts: Any) -> Any:
    out: Any = None
    for part in parts:
        piece = _text(part) if isinstance(part, str) else cast(part, Text)
        out = piece if out is None else out.op("||")(piece)
    return out


def _number(units: Any) -> Any:
    """UNITS as the normalised decimal text Python's ``format(Decimal.normalize(), "f")`` gives: ``42.9``, ``-5``."""
    magnitude = case((units < 0, -units), else_=units)
    whole = cast(magnitude // UNITS, Text)
    fraction = magnitude % UNITS
    digits = func.rtrim(func.substr(cast(fraction + UNITS, Text), 2), "0")
    sign = case((units < 0, _text("-")), else_=_text(""))
    decimals = case((fraction == 0, _text("")), else_=_text(".").op("||")(digits))
    return sign.op("||")(whole).op("||")(decimals)


def _json(conn: Connection, **fields: Any) -> Any:
    """A JSON object of text fields, in this order (``json_build_object`` / SQLite's ``json_object``)."""
    args: list[Any] = []
    for name, value in fields.items():
        args += [_text(name), cast(value, Text)]
    if conn.dialect.name == "postgresql":
        return func.json_build_object(*args)
    return func.json_object(*args)


def _insert_ignore(conn: Connection, table: Table, conflict: list[str]) -> Any:
    insert_ = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    return insert_(table).on_conflict_do_nothing(index_elements=conflict)


def _plus(conn: Connection, moment: Any, span: timedelta) -> Any:
    """A stored UTC moment plus whole days (an exact span, as Python adds a timedelta)."""
    if conn.dialect.name == "postgresql":
        return moment + literal(span)
    days = span.days
    # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff': whole days added to the seconds part keep the fraction as is
    shifted = func.datetime(func.substr(moment, 1, 19), f"{days:+d} days")
    return shifted.op("||")(func.substr(moment, 20))


def _iso(conn: Connection, moment: Any, now: datetime) -> Any:
    """A stored UTC moment as ``datetime.isoformat()`` writes it: ``2026-12-27T12:00:00[.ffffff]+00:00``;
    a NULL one as ``now``'s (the review's own moment)."""
    if conn.dialect.name == "postgresql":
        utc = func.timezone("UTC", moment)
        seconds = func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS')
        micro = cast(func.date_part("microseconds", utc), Integer) % 1_000_000
        fraction = case((micro != 0, func.to_char(utc, ".US")), else_=_text(""))
    else:
        seconds = func.replace(func.substr(moment, 1, 19), " ", "T")
        micro_text = func.substr(moment, 21, 6)
        fraction = case((micro_text != "000000", _text(".").op("||")(micro_text)), else_=_text(""))
    text = cast(seconds, Text).op("||")(fraction).op("||")(_text("+00:00"))
    return case((moment.is_(None), _text(now.isoformat())), else_=text)

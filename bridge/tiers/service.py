"""Tiers (issue 16): up at once, down fairly, overridden by the owner, every change in the history.

* **Up at once**: ``qualify`` runs in the transaction that applied an order (an order observer) or an admin
  adjustment: the member's metric over the current window is read (the order's own entries and state are already
  written), and a member who reached a higher level moves up there and then. Each level reached pays its
  ``entry_points`` once per member and level (ledger key ``<program>:tier:<member>:entry:<level>``), so a
  redelivered order, a replay or a later return to the level never pays again.
* **Down fairly** (``review``, the nightly job): never between reviews, so a refund never downgrades mid-period.
  ``calendar_year``: once per year end, ``grace_days`` after it, a member keeps the higher of the levels the ended
  year and the new year so far reach; ``rolling_months``: a member below their level since ``below_since`` moves
  down when ``grace_days`` have passed since. Down by one level per review (``one_level``) or to the level
  reached (``to_qualified``). ``lifetime`` never moves down. A ``tier_downgrade_warning`` is recorded
  ``warn_days`` before, with what to earn by when (``announce_warning``: the single call site for notifications).
* **Override**: the owner sets a tier until an end date (audited); earning above it still moves the member up;
  at its end the member has the tier earning gives.

The member's effective tier is mirrored into ``member_profile.tier``, which the rules engine reads (the level's
earning multiplier).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from bridge.config import ProgramSettings
from bridge.errors import TiersNotConfigured, UnknownMember, UnknownTier
from bridge.ledger import service as ledger
from bridge.ledger.model import EntryKind, NewEntry
from bridge.notifications import outbox
from bridge.orders.service import lot_expiry
from bridge.storage import audit, life
from bridge.storage import members as member_store
from bridge.storage import tiers as store
from bridge.storage.tiers import CAUSE_TIER, TierState
from bridge.tiers import windows
from bridge.tiers.settings import TierLevel, TierSettings

log = logging.getLogger(__name__)

WARNING = "tier_downgrade_warning"


@dataclass(frozen=True)
class Change:
    member_id: int
    from_tier: str | None
    to_tier: str | None
    reason: str


def entry_key(program_id: str, member_id: int, level_id: str) -> str:
    return f"{program_id}:tier:{member_id}:entry:{level_id}"


def settings_of(program: ProgramSettings) -> TierSettings:
    if program.tiers is None:
        raise TiersNotConfigured("this program has no tiers (program.tiers)")
    return program.tiers


def state(conn: Connection, member_id: int) -> TierState | None:
    return store.state(conn, member_id)


def tier_view(program: ProgramSettings, state: TierState | None) -> dict[str, Any] | None:
    """The member's tier as the admin API shows it: ``{id, name, since, source}``, None below the first level."""
    if program.tiers is None or state is None or state.tier_id is None:
        return None
    level = program.tiers.level(state.tier_id)
    return {
        "id": state.tier_id,
        "name": str(level.name) if level is not None else state.tier_id,
        "since": state.since.isoformat(),
        "source": state.source,
    }


# --- up at once -----------------------------------------------------------------------------------------------------
def qualify(
    conn: Connection, program: ProgramSettings, member_id: int, now: datetime, details: dict[str, Any] | None = None
) -> Change | None:
    """Move the member up to the level their metric reaches now, in the caller's transaction (None: no change)."""
    tiers = program.tiers
    if tiers is None:
        return None
    state = store.lock_state(conn, program.id, member_id, now)  # first: a concurrent order of theirs waits here
    start, end = windows.current(tiers, now, program.earning.zone)
    metric = store.metrics(conn, tiers.metric, [member_id], start, end).get(member_id, Decimal(0))
    return _up_to(conn, program, tiers, state, tiers.qualified_index(metric), metric, now, details or {})


def _up_to(
    conn: Connection,
    program: ProgramSettings,
    tiers: TierSettings,
    state: TierState,
    reached: int,
    metric: Decimal,
    now: datetime,
    details: dict[str, Any],
) -> Change | None:
    earned = tiers.index(state.earned_tier_id)
    current = tiers.index(state.tier_id)
    if reached <= earned and reached <= current:
        return None
    values: dict[str, Any] = {}
    if reached > earned:
        values["earned_tier_id"] = tiers.levels[reached].id
        values["below_since"] = None
    change = None
    if reached > current:
        to = tiers.levels[reached]
        values.update(tier_id=to.id, source="earned", since=now, override_until=None)
        facts = {**details, "metric": tiers.metric, "value": str(metric)}
        change = _record(conn, program, state, to.id, "qualified", now, details=facts)
        for level in tiers.levels[max(current, earned) + 1 : reached + 1]:
            _entry_bonus(conn, program, state.member_id, level, now)
    store.save(conn, state.member_id, now, **values)
    return change


def _entry_bonus(conn: Connection, program: ProgramSettings, member_id: int, level: TierLevel, now: datetime) -> None:
    if level.entry_points <= 0:
        return
    ledger.post(
        conn,
        NewEntry(
            program_id=program.id,
            member_id=member_id,
            points=level.entry_points,
            kind=EntryKind.EARN,
            idempotency_key=entry_key(program.id, member_id, level.id),
            expires_at=lot_expiry(program.earning, now),
            cause_type=CAUSE_TIER,
            cause_id=level.id,
            rule_id="tier_entry",
            note=f"Welcome to {level.name}",
            meta={"tier": level.id},
        ),
    )


def _record(
    conn: Connection,
    program: ProgramSettings,
    state: TierState,
    to_tier: str | None,
    reason: str,
    now: datetime,
    actor: str = "",
    details: dict[str, Any] | None = None,
) -> Change:
    """The history row, the profile the rules engine reads and the member's message (``tier_up`` / ``tier_down``,
    issue 17's outbox): every change of the effective tier goes here."""
    program_id = program.id
    _announce_moves(conn, program, [(state, to_tier, reason)], now)
    store.add_history(
        conn,
        program_id=program_id,
        member_id=state.member_id,
        from_tier=state.tier_id,
        to_tier=to_tier,
        reason=reason,
        now=now,
        actor=actor,
        details=details,
    )
    life.update_profile(conn, program_id, state.member_id, now, tier=to_tier)
    log.info("member %s tier %s -> %s (%s)", state.member_id, state.tier_id, to_tier, reason)
    return Change(state.member_id, state.tier_id, to_tier, reason)


# --- override -------------------------------------------------------------------------------------------------------
def override(
    conn: Connection,
    program: ProgramSettings,
    member_id: int,
    *,
    tier_id: str,
    until: datetime,
    reason: str,
    actor: str,
    now: datetime,
) -> TierState:
    """The owner sets ``tier_id`` until ``until`` (audited); raises UnknownTier, UnknownMember."""
    tiers = settings_of(program)
    if tiers.level(tier_id) is None:
        raise UnknownTier(f"no tier {tier_id!r} in program.tiers.levels")
    if until <= now:
        raise UnknownTier("the override must end in the future")
    if not member_store.lock(conn, program.id, member_id):
        raise UnknownMember(f"no member {member_id} in this program")
    state = store.lock_state(conn, program.id, member_id, now)
    details = {"until": until.isoformat(), "reason": reason}
    if state.tier_id != tier_id:
        _record(conn, program, state, tier_id, "override", now, actor=actor, details=details)
    store.save(conn, member_id, now, tier_id=tier_id, source="override", override_until=until, since=now)
    audit.record(
        conn,
        program_id=program.id,
        actor=actor,
        action="member.tier_override",
        target_type="member",
        target_id=str(member_id),
        details={"tier": tier_id, **details},
    )
    return store.lock_state(conn, program.id, member_id, now)


def end_override(conn: Connection, program: ProgramSettings, state: TierState, now: datetime, actor: str = "") -> None:
    """Back to what earning gives (the override's end date passed, or the owner ended it)."""
    tiers = settings_of(program)
    start, end = windows.current(tiers, now, program.earning.zone)
    metric = store.metrics(conn, tiers.metric, [state.member_id], start, end).get(state.member_id, Decimal(0))
    earned = max(tiers.index(state.earned_tier_id), tiers.qualified_index(metric))
    to = tiers.levels[earned].id if earned >= 0 else None
    if to != state.tier_id:
        _record(conn, program, state, to, "override_end", now, actor=actor)
    store.save(
        conn, state.member_id, now, tier_id=to, earned_tier_id=to, source="earned", override_until=None, since=now
    )


# --- down fairly ----------------------------------------------------------------------------------------------------
@dataclass
class _Bulk:
    """A page's writes, made at its end in a few statements whatever its size (1M members: a few thousand
    statements, not millions): tiers kept, graces started or cleared, moves down, warnings."""

    reviewed: list[int] = field(default_factory=list)  # calendar year end reviewed, tier kept
    below_now: list[int] = field(default_factory=list)  # rolling: fell below their level now (grace starts)
    above_again: list[int] = field(default_factory=list)  # rolling: back at their level
    moves: list[tuple[TierState, str | None, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def write(self, conn: Connection, program: ProgramSettings, now: datetime, ended: str) -> int:
        """Write it all; returns how many warnings were recorded now (a repeated one is not)."""
        store.save_many(conn, self.reviewed, now, reviewed_period=ended)
        store.save_many(conn, self.below_now, now, below_since=now)
        store.save_many(conn, self.above_again, now, below_since=None)
        if self.moves:
            store.add_history_many(
                conn,
                [
                    {
                        "program_id": program.id,
                        "member_id": state.member_id,
                        "from_tier": state.tier_id,
                        "to_tier": to,
                        "reason": "review",
                        "actor": "",
                        "details": facts,
                        "created_at": now,
                    }
                    for state, to, facts, _ in self.moves
                ],
            )
            groups: dict[tuple[Any, ...], list[int]] = {}
            for state, to, _, values in self.moves:
                groups.setdefault((to, *sorted(values.items())), []).append(state.member_id)
            for (to, *pairs), ids in groups.items():
                store.save_many(conn, ids, now, tier_id=to, earned_tier_id=to, since=now, **dict(pairs))
            store.set_profile_tiers(conn, program.id, {state.member_id: to for state, to, _, _ in self.moves}, now)
            _announce_moves(conn, program, [(state, to, "review") for state, to, _, _ in self.moves], now)
        return announce_warnings(conn, program, self.warnings, now)


@dataclass
class ReviewOutcome:
    reviewed: int = 0
    up: int = 0
    down: int = 0
    warned: int = 0
    overrides_ended: int = 0


def review_batch(
    conn: Connection, program: ProgramSettings, after_member_id: int, limit: int, now: datetime
) -> tuple[int | None, ReviewOutcome]:
    """Review one keyset page of members with a tier; returns the last member id (None: done) and what moved."""
    tiers = settings_of(program)
    zone = program.earning.zone
    states = store.states_after(conn, program.id, after_member_id, limit)
    outcome = ReviewOutcome(reviewed=len(states))
    if not states:
        return None, outcome
    ids = [s.member_id for s in states]
    start, end = windows.current(tiers, now, zone)
    now_metrics = store.metrics(conn, tiers.metric, ids, start, end)
    prev_metrics: dict[int, Decimal] = {}
    bulk = _Bulk()
    if tiers.window == "calendar_year":
        prev_start, prev_end = windows.previous_year(now, zone)
        prev_metrics = store.metrics(conn, tiers.metric, ids, prev_start, prev_end)
    for state in states:
        metric = now_metrics.get(state.member_id, Decimal(0))
        reached = tiers.qualified_index(metric)
        if state.source == "override":
            if state.override_until is not None and state.override_until <= now:
                end_override(conn, program, state, now)
                outcome.overrides_ended += 1
            elif reached > tiers.index(state.earned_tier_id):
                outcome.up += _up_to(conn, program, tiers, state, reached, metric, now, {"by": "review"}) is not None
            continue
        if reached > tiers.index(state.tier_id):
            outcome.up += _up_to(conn, program, tiers, state, reached, metric, now, {"by": "review"}) is not None
            continue
        if tiers.window == "calendar_year":
            prev = prev_metrics.get(state.member_id, Decimal(0))
            _review_year(conn, program, tiers, state, metric, prev, now, outcome, bulk)
        elif tiers.window == "rolling":
            _review_rolling(conn, program, tiers, state, metric, now, outcome, bulk)
    outcome.down += len(bulk.moves)
    outcome.warned += bulk.write(conn, program, now, str(windows.year_bounds(now, zone)[0].year - 1))
    return states[-1].member_id, outcome


def _review_year(
    conn: Connection,
    program: ProgramSettings,
    tiers: TierSettings,
    state: TierState,
    metric: Decimal,
    prev_metric: Decimal,
    now: datetime,
    outcome: ReviewOutcome,
    bulk: _Bulk,
) -> None:
    zone = program.earning.zone
    year_start, year_end = windows.year_bounds(now, zone)
    current = tiers.index(state.tier_id)
    ended = str(year_start.year - 1)
    if now >= year_start + timedelta(days=tiers.grace_days) and state.reviewed_period != ended:
        kept = max(tiers.qualified_index(prev_metric), tiers.qualified_index(metric))
        if kept < current and state.since < year_start:
            to = _step_down(tiers, current, kept)
            facts = {"period": ended, "metric": tiers.metric, "value": str(prev_metric)}
            bulk.moves.append((state, to, facts, {"reviewed_period": ended}))
            return
        bulk.reviewed.append(state.member_id)
    if now >= year_end - timedelta(days=tiers.warn_days) and tiers.qualified_index(metric) < current:
        level = tiers.levels[current]
        key = f"{program.id}:{WARNING}:{state.member_id}:{level.id}:{year_start.year}"
        bulk.warnings.append(_warning(tiers, state, level, level.threshold - metric, year_end, key))


def _review_rolling(
    conn: Connection,
    program: ProgramSettings,
    tiers: TierSettings,
    state: TierState,
    metric: Decimal,
    now: datetime,
    outcome: ReviewOutcome,
    bulk: _Bulk,
) -> None:
    current = tiers.index(state.tier_id)
    reached = tiers.qualified_index(metric)
    if reached >= current:
        if state.below_since is not None:
            bulk.above_again.append(state.member_id)
        return
    below = state.below_since or now
    due = below + timedelta(days=tiers.grace_days)
    if now >= due:
        to = _step_down(tiers, current, reached)
        still_below = tiers.index(to) > reached
        facts = {"below_since": below.isoformat(), "metric": tiers.metric, "value": str(metric)}
        bulk.moves.append((state, to, facts, {"below_since": now if still_below else None}))
        return
    if state.below_since is None:
        bulk.below_now.append(state.member_id)
    if now >= due - timedelta(days=tiers.warn_days):
        level = tiers.levels[current]
        key = f"{program.id}:{WARNING}:{state.member_id}:{level.id}:{below.isoformat()}"
        bulk.warnings.append(_warning(tiers, state, level, level.threshold - metric, due, key))


def _step_down(tiers: TierSettings, current: int, reached: int) -> str | None:
    to = reached if tiers.downgrade == "to_qualified" else max(reached, current - 1)
    return tiers.levels[to].id if to >= 0 else None


def _warning(
    tiers: TierSettings, state: TierState, level: TierLevel, needed: Decimal, by: datetime, key: str
) -> dict[str, Any]:
    needed = max(needed, Decimal(0))
    return {
        "member_id": state.member_id,
        "key": key,
        "points": int(needed) if tiers.metric == "points" else 0,
        "due_at": by,
        "details": {"tier": level.id, "metric": tiers.metric, "needed": str(needed), "by": by.isoformat()},
    }


def _announce_moves(
    conn: Connection, program: ProgramSettings, moves: list[tuple[TierState, str | None, str]], now: datetime
) -> None:
    """``tier_up`` / ``tier_down`` for each change of a member's effective tier, in the change's transaction."""
    levels = list(program.tiers.levels) if program.tiers else []
    ids = [level.id for level in levels]
    names = {level.id: str(level.name) for level in levels}

    def rank(tier: str | None) -> int:
        return ids.index(tier) + 1 if tier in ids else 0

    events = [
        outbox.NewEvent(
            program.id,
            "tier_up" if rank(to) > rank(state.tier_id) else "tier_down",
            f"{program.id}:tier:{state.member_id}:{state.tier_id}:{to}:{now.isoformat()}",
            state.member_id,
            {"from_tier": state.tier_id, "to_tier": to, "tier_name": names.get(to or "", ""), "reason": reason},
        )
        for state, to, reason in moves
        if to != state.tier_id
    ]
    outbox.add_many(conn, events)


def _warning_payload(program: ProgramSettings, warning: dict[str, Any]) -> dict[str, Any]:
    details = dict(warning["details"])
    levels = {level.id: str(level.name) for level in program.tiers.levels} if program.tiers else {}
    return {**details, "tier_name": levels.get(details.get("tier", ""), "")}


def announce_warnings(conn: Connection, program: ProgramSettings, warnings: list[dict[str, Any]], now: datetime) -> int:
    """``tier_downgrade_warning``: what each member must earn (or spend, or order) by when to keep their tier.

    Recorded once per key as point events (``GET /admin/v1/members/<id>/point-events``); this is the one place a
    notification outbox hooks into. Returns how many were recorded now."""
    events = [{**w, "program_id": program.id, "kind": WARNING, "now": now} for w in warnings]
    recorded = life.record_events(conn, events)
    outbox.add_many(
        conn,
        [
            outbox.NewEvent(program.id, WARNING, w["key"], w["member_id"], _warning_payload(program, w))
            for w in warnings
        ],
    )
    if recorded:
        log.info("%s tier downgrade warnings recorded", recorded)
    return recorded

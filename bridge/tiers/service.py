"""Tiers (issue 16): up at once, down fairly, overridden by the owner, every change in the history.

* **Up at once**: ``qualify`` runs in the transaction that applied an order (an order observer) or an admin
  adjustment: the member's metric over the current window is read (the order's own entries and state are already
  written), and a member who reached a higher level moves up there and then. Each level reached pays its
  ``entry_points`` once per member and level (ledger key ``<program>:tier:<member>:entry:<level>``), so a
  redelivered order, a replay or a later return to the level never pays again.
* **Down fairly** (``review_batch``, the nightly job, set-based in ``bridge.storage.tier_review``): never between
  reviews, so a refund never downgrades mid-period.
  ``calendar_year``: once per year end, ``grace_days`` after it, a member keeps the higher of the levels the ended
  year and the new year so far reach; ``rolling_months``: a member below their level since ``below_since`` moves
  down when ``grace_days`` have passed since. Down by one level per review (``one_level``) or to the level
  reached (``to_qualified``). ``lifetime`` never moves down. A ``tier_downgrade_warning`` is recorded
  ``warn_days`` before, with what to earn by when (a point event and its outbox event, keyed so never doubled).
* **Override**: the owner sets a tier until an end date (audited); earning above it still moves the member up;
  at its end the member has the tier earning gives.

The member's effective tier is mirrored into ``member_profile.tier``, which the rules engine reads (the level's
earning multiplier).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
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
from bridge.storage import tier_review as review
from bridge.storage import tiers as store
from bridge.storage.clock import utcnow
from bridge.storage.tiers import CAUSE_TIER, TierState
from bridge.tiers import windows
from bridge.tiers.settings import TierLevel, TierSettings

log = logging.getLogger(__name__)

WARNING = "tier_downgrade_warning"  # the warning's kind (point events) and event type (the outbox)


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
class ReviewOutcome:
    reviewed: int = 0
    up: int = 0
    down: int = 0
    warned: int = 0
    overrides_ended: int = 0


def review_batch(
    conn: Connection, program: ProgramSettings, after_member_id: int, limit: int, now: datetime
) -> tuple[int | None, ReviewOutcome]:
    """Review one keyset page of members with a tier; returns the last member id (None: done) and what moved.

    Set-based (``bridge.storage.tier_review``): the page's decisions are made in SQL and written in a few
    statements whatever its size. Only moves up and overrides ending, which a review rarely meets (the order path
    moves members up at once), take the member-by-member paths above: a move up may pay an entry bonus, and the
    ledger has one write path."""
    tiers = settings_of(program)
    store.tune_bulk(conn)
    last = review.page_end(conn, program.id, after_member_id, limit)
    if last is None:
        return None, ReviewOutcome()
    at = _moment(tiers, now, program.earning.zone)
    ladder = review.Ladder(
        program_id=program.id,
        metric=tiers.metric,
        window=tiers.window,
        level_ids=tuple(level.id for level in tiers.levels),
        names=tuple(str(level.name) for level in tiers.levels),
        thresholds=tuple(level.threshold for level in tiers.levels),
        downgrade=tiers.downgrade,
    )
    outcome = ReviewOutcome(reviewed=review.decide(conn, ladder, at, after_member_id, last))
    singles = review.members_with(conn, [review.UP, review.OVERRIDE_END])
    outcome.down = review.moved_down(conn)
    outcome.warned = review.write(conn, ladder, at, utcnow(), after_member_id, last)
    review.finish(conn)
    if singles:
        states = store.tiers_of(conn, list(singles))
        ups = [member_id for member_id, action in singles.items() if action == review.UP]
        metrics = store.metrics(conn, tiers.metric, ups, at.start, at.end)
        for member_id, action in singles.items():
            state = states[member_id]
            if action == review.OVERRIDE_END:
                end_override(conn, program, state, now)
                outcome.overrides_ended += 1
                continue
            metric = metrics.get(member_id, Decimal(0))
            reached = tiers.qualified_index(metric)
            outcome.up += _up_to(conn, program, tiers, state, reached, metric, now, {"by": "review"}) is not None
    log.debug("tier review page (%s, %s]: %s", after_member_id, last, outcome)
    return last, outcome


def _moment(tiers: TierSettings, now: datetime, zone: tzinfo) -> review.Moment:
    start, end = windows.current(tiers, now, zone)
    if tiers.window != "calendar_year":
        grace, warn = timedelta(days=tiers.grace_days), timedelta(days=tiers.warn_days)
        return review.Moment(now=now, start=start, end=end, grace=grace, warn=warn)
    year_start, year_end = windows.year_bounds(now, zone)
    prev_start, prev_end = windows.previous_year(now, zone)
    return review.Moment(
        now=now,
        start=start,
        end=end,
        prev_start=prev_start,
        prev_end=prev_end,
        year_due=now >= year_start + timedelta(days=tiers.grace_days),
        ended=str(year_start.year - 1),
        year_start=year_start,
        warn_phase=now >= year_end - timedelta(days=tiers.warn_days),
    )


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

"""From "the order now looks like this" to ledger entries.

Every delivery is a snapshot. We compare it with what the ledger already holds for that order and post only
what is missing, each entry under a key derived from its cause, so a duplicate, a replay or a stale snapshot
changes nothing, and any arrival order of one order's deliveries ends in the same ledger:

* ``<shop>:order:<id>[:c<cycle>]:<rule>``              the earn entry of each rule, once the order is paid
* ``<shop>:order:<id>[:c<cycle>]:refund:<refund>:<rule>`` pro rata reversal for one refund
* ``<shop>:order:<id>[:c<cycle>]:reverse:<rule>``       the remainder, when the order is refunded/cancelled
* ``<earn key>:release:out`` / ``<earn key>:release``     the hold is over: -pending, +available (issue 3)

Points from an order are ``pending`` until the order is completed and the program's hold has passed
(``bridge/orders/release.py`` moves them); a refund or cancellation during the hold reverses pending points,
one after it reverses available points. Nothing pending is ever spendable.

Reversals are computed from the figures stored on the earn entry (its points and the order total at the
time), never from today's rules. Refund reversals are cumulative in refund-id order and rounded down, so
each refund's share does not depend on which snapshot reported it first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import Connection

from bridge.connectors.base import Refund, ShopOrder
from bridge.ledger import service as ledger
from bridge.ledger.model import Entry, EntryKind, EntryState, NewEntry
from bridge.members import name_capture
from bridge.members import service as members
from bridge.orders.context import CategoryLookup, MemberFacts, order_context
from bridge.orders.page import Page
from bridge.rules import RuleSet, explain_order
from bridge.rules.config import EarningSettings
from bridge.storage import ledger as ledger_store
from bridge.storage import life
from bridge.storage import orders as order_store
from bridge.storage.clock import add_months, utcnow
from bridge.storage.orders import OrderState

log = logging.getLogger(__name__)

CAUSE_ORDER = "order"
REVERSING_STATUSES = frozenset(order_store.UNDONE_STATUSES)
"""Statuses that take back whatever the order still holds (``bridge.storage.orders.UNDONE_STATUSES``)."""


@dataclass(frozen=True)
class ShopContext:
    program_id: str
    shop_id: str
    minor_unit: int
    paid_statuses: frozenset[str]
    rules: RuleSet
    earning: EarningSettings = field(default_factory=EarningSettings)
    categories_of: CategoryLookup | None = None  # product id -> categories, through the connector's cache
    program_version: int | None = None  # issue 14: the published program version ``rules`` come from


@dataclass(frozen=True)
class _OrderLedger:
    """The order's entries in the current cycle, grouped: earn entries and what each has had reversed."""

    earns: list[Entry]
    reversed_points: dict[int, int]
    closed: bool  # every earn of this cycle has had its remainder reversed
    released: frozenset[int] = frozenset()  # earns whose pending points were moved to available
    refunds_reversed: frozenset[tuple[int, str]] = frozenset()  # (earn id, refund id) with a reversal posted

    def state_of(self, earn: Entry) -> EntryState:
        """Where the earn's points are now: a reversal takes them from there."""
        return EntryState.AVAILABLE if earn.id in self.released else EntryState(earn.state)


def apply_order(conn: Connection, ctx: ShopContext, order: ShopOrder, page: Page | None = None) -> str:
    """Bring the ledger in line with this snapshot of ``order``; returns what happened, for the logs.

    With a ``page`` (``bridge/orders/batch.py``) the order's state and member come from the page, and the writes
    nothing later in the page reads are left to the page to write together.
    """
    if page is None:
        now_state = order_store.lock_or_create(conn, ctx.program_id, ctx.shop_id, order.order_id, utcnow())
    else:
        now_state = page.states[order.order_id]
    if is_stale(now_state, order):
        return "stale"
    member_id = now_state.member_id or (
        page.members[order.order_id]
        if page is not None
        else members.resolve(conn, ctx.program_id, ctx.shop_id, order.customer_id, order.email)
    )
    if page is None:  # a page offers its orders' billing names together (``apply_page``)
        name_capture.capture(conn, ctx.program_id, [(member_id, name_capture.from_order(order))])
    cycle = now_state.cycle
    moments = life.OrderMoments(
        now_state.paid_at, now_state.completed_at, now_state.released_at, now_state.evaluated_cycle
    )
    life_values: dict[str, datetime | int | None] = {}
    if moments.paid_at is None and was_paid(ctx, order):
        life_values["paid_at"] = order.date_paid or order.date_modified or utcnow()
    if member_id is not None and not now_state.history_only:
        # A row created just now has no ledger entries yet: skip reading them (a round trip per new order).
        current = _OrderLedger([], {}, False) if now_state.fresh else _order_ledger(conn, ctx, order.order_id, cycle)
        if current.closed and order.status in ctx.paid_statuses and _is_newer(now_state, order):
            cycle += 1  # restored after a full reversal: a new earning cycle with its own keys
            current = _OrderLedger([], {}, False)
            # the new cycle's hold starts when the restored order is completed again
            life_values["completed_at"] = None
            moments = life.OrderMoments(moments.paid_at, None, None, moments.evaluated_cycle)
        evaluated = moments.evaluated_cycle == cycle
        earned, evaluated_now = _settle(conn, ctx, order, member_id, cycle, current, now_state.id, evaluated, page)
        if evaluated_now:
            life_values["evaluated_cycle"] = cycle
        if earned:
            life_values["released_at"] = None if ctx.earning.release == "after_hold" else utcnow()
    if order.status == "completed" and moments.completed_at is None:
        life_values["completed_at"] = order.date_completed or order.date_modified or utcnow()
    values = {
        "member_id": member_id,
        "status": order.status,
        "total": str(order.total),
        "refunded_total": str(order.refunded_total),
        "date_modified": _latest(now_state.date_modified, order.date_modified),
        "cycle": cycle,
        "updated_at": utcnow(),
        **life_values,
    }
    if page is None:
        order_store.save(conn, now_state.id, **values)
    else:  # nothing in the page reads another order's state: saved with the page's others
        page.saves.append((now_state.id, values))
    if now_state.history_only:
        return "history"
    return "applied" if member_id is not None else "no-member"


def apply_order_deleted(conn: Connection, ctx: ShopContext, order_id: str) -> str:
    """A deleted order (``{"id": N}`` only) gives back whatever it still holds."""
    state = order_store.lock_or_create(conn, ctx.program_id, ctx.shop_id, order_id, utcnow())
    if state.member_id is not None:
        current = _order_ledger(conn, ctx, order_id, state.cycle)
        for earn in current.earns:
            reversed_points = current.reversed_points.get(earn.id, 0)
            _reverse_rest(conn, ctx, earn, reversed_points, state.cycle, current.state_of(earn))
    order_store.save(conn, state.id, status="deleted", updated_at=utcnow())
    return "deleted"


def _settle(
    conn: Connection,
    ctx: ShopContext,
    order: ShopOrder,
    member_id: int,
    cycle: int,
    current: _OrderLedger,
    state_id: int,
    evaluated: bool,
    page: Page | None = None,
) -> tuple[bool, bool]:
    """Post what is missing; returns (posted the earn entries now, evaluated the rules now).

    The rules are evaluated once per cycle, at the first paid snapshot: an order that earned nothing then (not a
    member yet in a closed program, a cap reached, everything excluded) does not earn on a later status change.
    """
    earns = current.earns
    earned_now = evaluated_now = False
    reversing = order.status in REVERSING_STATUSES
    if not earns and not evaluated and was_paid(ctx, order):
        facts = page.facts.get(member_id) if page is not None else None
        entries = _earn_entries(conn, ctx, order, member_id, cycle, state_id, facts)
        if page is not None and not reversing and not order.refunds:
            # Nothing below refers to them (no reversal in this snapshot): written with the page's others.
            page.entries.extend(entries)
            return bool(entries), True
        earns = [ledger.post(conn, entry)[0] for entry in entries]
        earned_now, evaluated_now = bool(earns), True
    for earn in earns:
        state = current.state_of(earn)
        reversed_points = current.reversed_points.get(earn.id, 0)
        done = {refund_id for earn_id, refund_id in current.refunds_reversed if earn_id == earn.id}
        reversed_points += _reverse_refunds(conn, ctx, earn, order.refunds, reversed_points, cycle, state, done)
        if reversing:
            _reverse_rest(conn, ctx, earn, reversed_points, cycle, state)
    return earned_now, evaluated_now


def paid_or_reversed(ctx: ShopContext, order: ShopOrder) -> bool:
    """A past order that a history-only import marks: it was paid, or it is refunded or cancelled."""
    return order.status in ctx.paid_statuses or order.status in REVERSING_STATUSES


def was_paid(ctx: ShopContext, order: ShopOrder) -> bool:
    """Paid now, or refunded/cancelled after payment (a snapshot that skipped the paid state still earned)."""
    if order.status in ctx.paid_statuses:
        return True
    return order.status in REVERSING_STATUSES and order.date_paid is not None


def _earn_entries(
    conn: Connection,
    ctx: ShopContext,
    order: ShopOrder,
    member_id: int,
    cycle: int,
    state_id: int,
    facts: MemberFacts | None = None,
) -> list[NewEntry]:
    """The earn entries the rules award this order (and the member joins a closed program when it qualifies)."""
    rule_ctx = order_context(
        conn,
        ctx.rules,
        order,
        shop_id=ctx.shop_id,
        minor_unit=ctx.minor_unit,
        member_id=member_id,
        categories_of=ctx.categories_of,
        state_id=state_id,
        facts=facts,
    )
    evaluation = explain_order(order, ctx.rules, rule_ctx)
    if evaluation.joins:  # a closed program's qualifying order: the member is in from now on
        life.update_profile(conn, ctx.program_id, member_id, utcnow(), joined_at=utcnow())
    on_payment = ctx.earning.release == "on_payment"
    now = utcnow()
    return [
        NewEntry(
            program_id=ctx.program_id,
            shop_id=ctx.shop_id,
            member_id=member_id,
            points=award.points,
            kind=EntryKind.EARN,
            state=EntryState.AVAILABLE if on_payment else EntryState.PENDING,
            expires_at=lot_expiry(ctx.earning, now) if on_payment else None,
            idempotency_key=f"{_prefix(ctx, order.order_id, cycle)}:{award.rule_id}",
            cause_type=CAUSE_ORDER,
            cause_id=order.order_id,
            rule_id=award.rule_id,
            note=award.reason,
            meta={**award.detail, "order_total": str(order.total), "cycle": cycle},
            program_version=ctx.program_version,
        )
        for award in evaluation.awards
    ]


def _reverse_refunds(
    conn: Connection,
    ctx: ShopContext,
    earn: Entry,
    refunds: tuple[Refund, ...],
    already: int,
    cycle: int,
    state: EntryState,
    done: set[str],
) -> int:
    """Post each refund's pro rata share of ``earn``; returns the points newly reversed.

    ``done``: refunds whose reversal is already posted. They are skipped, not proposed again: ``already`` counts
    them, so their share capped by what is left would differ from the stored one (the ledger key would refuse it,
    but log a conflict that is none). Their amounts still count in the running total the next shares start from.
    """
    order_total = Decimal(earn.meta.get("order_total", "0"))
    if order_total <= 0:
        return 0
    newly = 0
    refunded = Decimal(0)
    for refund in sorted(refunds, key=lambda r: int(r.refund_id)):
        share_before = refund_share(earn.points, refunded, order_total)
        refunded += refund.amount
        if refund.refund_id in done:
            continue
        points = min(refund_share(earn.points, refunded, order_total) - share_before, earn.points - already - newly)
        if points <= 0:
            continue
        key = f"{_prefix(ctx, earn.cause_id, cycle)}:refund:{refund.refund_id}:{earn.rule_id}"
        reversal = _reversal(earn, points, key, refund.refund_id, f"refund: {refund.reason}", state)
        _, created = ledger.post(conn, reversal)
        if created:
            newly += points
    return newly


def _reverse_rest(conn: Connection, ctx: ShopContext, earn: Entry, already: int, cycle: int, state: EntryState) -> None:
    points = earn.points - already
    if points > 0:
        key = f"{_prefix(ctx, earn.cause_id, cycle)}:reverse:{earn.rule_id}"
        ledger.post(conn, _reversal(earn, points, key, "", "order refunded or cancelled", state))


def _reversal(earn: Entry, points: int, key: str, refund_id: str, note: str, state: EntryState) -> NewEntry:
    return NewEntry(
        program_id=earn.program_id,
        shop_id=earn.shop_id,
        member_id=earn.member_id,
        points=-points,
        kind=EntryKind.REVERSE,
        state=state,
        idempotency_key=key,
        cause_type=CAUSE_ORDER,
        cause_id=earn.cause_id,
        rule_id=earn.rule_id,
        refund_id=refund_id,
        reverses_entry_id=earn.id,
        note=note,
        meta={"cycle": earn.meta.get("cycle", 1), "rest": not refund_id},
    )


def refund_share(points: int, refunded: Decimal, order_total: Decimal) -> int:
    """Points of ``points`` that ``refunded`` out of ``order_total`` accounts for, rounded down."""
    fraction = min(refunded, order_total) / order_total
    return int((points * fraction).to_integral_value(rounding=ROUND_FLOOR))


def _order_ledger(conn: Connection, ctx: ShopContext, order_id: str, cycle: int) -> _OrderLedger:
    return group_order_entries(ledger_store.for_cause(conn, ctx.shop_id, CAUSE_ORDER, order_id), cycle)


def group_order_entries(all_entries: list[Entry], cycle: int) -> _OrderLedger:
    """One order's entries of ``cycle``: its earns, what was reversed of each, which were released."""
    entries = [e for e in all_entries if e.meta.get("cycle", 1) == cycle]
    earns = [e for e in entries if e.kind == EntryKind.EARN]
    reversed_points: dict[int, int] = {}
    rest_reversed: set[int] = set()
    refunds_reversed: set[tuple[int, str]] = set()
    released = frozenset(e.reverses_entry_id for e in entries if e.kind == EntryKind.RELEASE and e.reverses_entry_id)
    for e in entries:
        if e.kind == EntryKind.REVERSE and e.reverses_entry_id is not None:
            reversed_points[e.reverses_entry_id] = reversed_points.get(e.reverses_entry_id, 0) - e.points
            if e.meta.get("rest"):
                rest_reversed.add(e.reverses_entry_id)
            elif e.refund_id:
                refunds_reversed.add((e.reverses_entry_id, e.refund_id))
    closed = bool(earns) and all(e.id in rest_reversed or reversed_points.get(e.id, 0) >= e.points for e in earns)
    return _OrderLedger(earns, reversed_points, closed, released, frozenset(refunds_reversed))


def lot_expiry(earning: EarningSettings, available_at: datetime) -> datetime | None:
    """When points that became available at ``available_at`` expire, under per-lot expiry (else None)."""
    if earning.expiry.mode != "lot":
        return None
    return add_months(available_at, earning.expiry.months)


def _prefix(ctx: ShopContext, order_id: str, cycle: int) -> str:
    base = f"{ctx.shop_id}:order:{order_id}"
    return base if cycle == 1 else f"{base}:c{cycle}"


def is_stale(state: OrderState, order: ShopOrder) -> bool:
    """Older than a snapshot we already applied: everything in it is already reflected (refunds only grow)."""
    return bool(state.date_modified and order.date_modified and order.date_modified < state.date_modified)


def _is_newer(state: OrderState, order: ShopOrder) -> bool:
    return bool(order.date_modified and (state.date_modified is None or order.date_modified > state.date_modified))


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)

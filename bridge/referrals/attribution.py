"""Attribution and qualification: which order a referral's friend placed, and when the referrer earns.

An order observer (called with every order snapshot, in the worker's transaction) attributes a paid order to
a referral by the friend's welcome coupon in ``coupon_lines`` or, as a fallback, by the billing e-mail of an
``invited`` referral. It rejects what is not a real new customer (the referrer's own shop account, phone or
address), follows the order through completion, refunds and cancellation, and, after qualification, takes the
referrer's reward back like any order's points (pro rata per refund, the rest on cancellation).

The periodic job ``referrals.qualify`` rewards referrals whose order was completed at least the hold ago.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, select

from bridge.config import ReferralSettings
from bridge.connectors.base import ShopOrder
from bridge.ledger import service as ledger
from bridge.ledger.model import Entry, EntryKind, EntryState, NewEntry, release_pair
from bridge.members import service as members
from bridge.notifications import outbox
from bridge.orders.service import REVERSING_STATUSES, ShopContext, lot_expiry, refund_share
from bridge.referrals.model import Reason, Referral, State, fold_email
from bridge.runtime import Runtime, active_runtime
from bridge.storage import db
from bridge.storage import members as member_store
from bridge.storage import orders as order_store
from bridge.storage import referrals as store
from bridge.storage import tables as t
from bridge.storage.clock import utcnow
from bridge.storage.secretbox import SecretBox, box_for

log = logging.getLogger(__name__)

CAUSE = "referral"
BATCH = 200


def observe_order(conn: Connection, ctx: ShopContext, order: ShopOrder) -> None:
    rt = active_runtime()
    if rt is None or not rt.settings.program.referrals.enabled:
        return
    s = rt.settings.program.referrals
    box = box_for(rt.settings, create=True)
    assert box is not None
    member_id = _order_member(conn, ctx, order)
    if member_id is not None:
        _remember_contacts(conn, ctx, box, member_id, order)
    paid = order.status in ctx.paid_statuses
    friend_key = fold_email(order.email) if paid and order.email else ""
    for ref in store.for_order(conn, ctx.shop_id, order.order_id, order.coupon_codes, friend_key):
        if ref.program_id != ctx.program_id:
            continue
        if ref.state == State.INVITED and paid:
            _attribute(conn, ctx, s, box, ref, order, member_id)
        elif ref.order_id == order.order_id and ref.state == State.ORDERED:
            _follow(conn, s, ref, order)
        elif ref.order_id == order.order_id and ref.state == State.QUALIFIED:
            _take_back(conn, ctx, ref, order)


def observe_page(conn: Connection, ctx: ShopContext, orders: Sequence[ShopOrder]) -> None:
    """``observe_order`` for each of a page of snapshots (backfill, reconciliation), in a few statements.

    Past orders rarely concern a referral: when none of the page's does, all that is left to do is remember the
    buyers' contacts, in one statement. When one does, the page is observed order by order (an attribution's
    fraud check reads the contacts remembered for the orders before it, and only those).
    """
    rt = active_runtime()
    if rt is None or not rt.settings.program.referrals.enabled:
        return
    ids = [order.order_id for order in orders]
    codes = sorted({code for order in orders for code in order.coupon_codes})
    friends = sorted({fold_email(o.email) for o in orders if o.email and o.status in ctx.paid_statuses})
    if store.any_for_orders(conn, ctx.shop_id, ids, codes, friends):
        for order in orders:
            observe_order(conn, ctx, order)
        return
    box = box_for(rt.settings, create=True)
    assert box is not None
    member_of = order_store.members_of(conn, ctx.shop_id, ids)
    contacts = [
        (member_of[order.order_id], kind, digest)
        for order in orders
        if order.order_id in member_of
        for kind, digest in _contact_digests(box, order)
    ]
    store.add_contacts(conn, program_id=ctx.program_id, contacts=contacts, now=utcnow())


def _order_member(conn: Connection, ctx: ShopContext, order: ShopOrder) -> int | None:
    o = t.order_state.c
    found = conn.scalar(select(o.member_id).where(o.shop_id == ctx.shop_id, o.order_id == order.order_id))
    return int(found) if found is not None else None


def _remember_contacts(conn: Connection, ctx: ShopContext, box: SecretBox, member_id: int, order: ShopOrder) -> None:
    """Keyed digests of the buyer's phone and address: enough to recognise them again, useless if leaked."""
    now = utcnow()
    for kind, digest in _contact_digests(box, order):
        store.add_contact(conn, program_id=ctx.program_id, member_id=member_id, kind=kind, digest=digest, now=now)


def _contact_digests(box: SecretBox, order: ShopOrder) -> list[tuple[str, str]]:
    """(kind, keyed digest) of the buyer's phone and address, those the order has."""
    contacts = (("phone", order.billing_phone), ("address", order.billing_address))
    return [(kind, box.digest(f"{kind}:{value}", 64)) for kind, value in contacts if value]


def _attribute(
    conn: Connection,
    ctx: ShopContext,
    s: ReferralSettings,
    box: SecretBox,
    ref: Referral,
    order: ShopOrder,
    member_id: int | None,
) -> None:
    now = utcnow()
    reason = _fraud(conn, ctx, box, ref, order)
    net = order.total - order.refunded_total
    if reason is None and net < s.min_order_amount:
        reason = Reason.BELOW_MINIMUM
    if reason is None and s.referrer_monthly_cap:
        # PostgreSQL: one attribution per referrer at a time, so two workers cannot both take the last place.
        member_store.lock(conn, ctx.program_id, ref.referrer_member_id)
        if cap_reached(conn, s, ref.referrer_member_id, now):
            reason = Reason.REFERRER_CAP
    values = {"order_id": order.order_id, "order_total": str(net), "friend_member_id": member_id, "ordered_at": now}
    if reason is not None:
        store.change(conn, ref.id, state=State.REJECTED, reason=reason, rejected_at=now, updated_at=now, **values)
        log.info("referral %s rejected (%s) on order %s", ref.id, reason, order.order_id)
        return
    store.change(conn, ref.id, state=State.ORDERED, updated_at=now, **values)
    current = store.get(conn, ref.id)
    assert current is not None
    _follow(conn, s, current, order)


def cap_reached(conn: Connection, s: ReferralSettings, referrer_member_id: int, now: datetime) -> bool:
    """Whether the referrer's friends already placed ``referrer_monthly_cap`` first orders this calendar month (UTC).

    The cap limits what a referral costs the shop: a friend's coupon used on a paid order and the referrer's
    reward. Claims are free to make with any made-up e-mail, so they never count (else a stranger holding the
    public code could exhaust anyone's cap); a referral counts from its attributed order on, unless rejected.
    """
    if not s.referrer_monthly_cap:
        return False
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return store.ordered_since(conn, referrer_member_id, month_start) >= s.referrer_monthly_cap


def _fraud(conn: Connection, ctx: ShopContext, box: SecretBox, ref: Referral, order: ShopOrder) -> Reason | None:
    """The referrer behind the friend's order: their shop account, phone or address."""
    if order.customer_id:
        owner = conn.scalar(
            select(t.member_identity.c.member_id).where(
                t.member_identity.c.shop_id == ctx.shop_id,
                t.member_identity.c.platform_customer_id == order.customer_id,
            )
        )
        if owner is not None and int(owner) == ref.referrer_member_id:
            return Reason.SELF_CUSTOMER
    if fold_email(order.email) == _referrer_key(conn, ref):
        return Reason.SELF
    for kind, value in (("phone", order.billing_phone), ("address", order.billing_address)):
        if value and store.has_contact(conn, ref.referrer_member_id, kind, box.digest(f"{kind}:{value}", 64)):
            return Reason.SELF_CONTACT
    return None


def _referrer_key(conn: Connection, ref: Referral) -> str:
    email = conn.scalar(select(t.member.c.email).where(t.member.c.id == ref.referrer_member_id))
    return fold_email(str(email or ""))


def _follow(conn: Connection, s: ReferralSettings, ref: Referral, order: ShopOrder) -> None:
    """An attributed order moves on: completed (the hold starts), refunded or cancelled (rejected)."""
    now = utcnow()
    net = order.total - order.refunded_total
    reason = None
    if order.status == "refunded" or (order.total > 0 and net <= 0):
        reason = Reason.ORDER_REFUNDED
    elif order.status in REVERSING_STATUSES:
        reason = Reason.ORDER_CANCELLED
    elif net < s.min_order_amount:
        reason = Reason.BELOW_MINIMUM
    if reason is not None:
        store.change(conn, ref.id, state=State.REJECTED, reason=reason, rejected_at=now, updated_at=now)
        _withdraw_pending(conn, ref)
    elif order.status == "completed" and ref.completed_at is None:
        completed = order.date_completed or order.date_modified or now
        store.change(conn, ref.id, completed_at=completed, order_total=str(net), updated_at=now)
        if s.pending_during_hold:
            current = store.get(conn, ref.id)
            assert current is not None
            _post_rewards(conn, s, current, EntryState.PENDING)
    elif str(net) != ref.order_total:
        store.change(conn, ref.id, order_total=str(net), updated_at=now)


def _take_back(conn: Connection, ctx: ShopContext, ref: Referral, order: ShopOrder) -> None:
    """After qualification, refunds and cancellation take the referrer's reward back like an order's points."""
    earn = ledger.entry_by_key(conn, reward_key(ref, "referrer"))
    if earn is None:
        return
    basis = Decimal(earn.meta.get("order_total", "0"))
    if basis > 0:
        refunded = Decimal(0)
        for refund in sorted(order.refunds, key=lambda r: int(r.refund_id)):
            before = refund_share(earn.points, refunded, basis)
            refunded += refund.amount
            points = refund_share(earn.points, refunded, basis) - before
            if points > 0:
                _reverse(conn, earn, points, f"{reward_key(ref, 'referrer')}:refund:{refund.refund_id}")
    if order.status in REVERSING_STATUSES:
        rest = earn.points - _reversed_so_far(conn, earn.id)
        if rest > 0:
            _reverse(conn, earn, rest, f"{reward_key(ref, 'referrer')}:reverse")


def _reversed_so_far(conn: Connection, entry_id: int) -> int:
    le = t.ledger_entry.c
    rows = conn.execute(select(le.points).where(le.reverses_entry_id == entry_id)).all()
    return -sum(int(p) for (p,) in rows)


def _reverse(
    conn: Connection,
    earn: Entry,
    points: int,
    key: str,
    state: EntryState = EntryState.AVAILABLE,
    note: str = "the referred friend's order was refunded or cancelled",
) -> None:
    """Take ``points`` of a referral reward back, from where they are (pending during the hold, else available)."""
    ledger.post(
        conn,
        NewEntry(
            program_id=earn.program_id,
            shop_id=earn.shop_id,
            member_id=earn.member_id,
            points=-points,
            kind=EntryKind.REVERSE,
            state=state,
            idempotency_key=key,
            cause_type=CAUSE,
            cause_id=earn.cause_id,
            rule_id=earn.rule_id,
            reverses_entry_id=earn.id,
            note=note,
        ),
    )


def reward_key(ref: Referral, who: str) -> str:
    return f"{ref.program_id}:referral:{ref.id}:{who}"


# -- qualification -------------------------------------------------------------------------------------------------
def hold_days(rt: Runtime) -> int:
    s = rt.settings.program.referrals
    if s.hold_days is not None:
        return s.hold_days
    return rt.settings.program.earning.hold_days  # the same hold as earned points


def qualify_due(rt: Runtime, now: datetime) -> int:
    """Reward every referral whose order was completed at least the hold ago; returns how many qualified."""
    s = rt.settings.program.referrals
    if not s.enabled:
        return 0
    cutoff = now - timedelta(days=hold_days(rt))
    with db.read(rt.engine) as conn:
        due = store.due_for_qualification(conn, cutoff, BATCH)
    qualified = 0
    for referral_id in due:
        with db.write(rt.engine) as conn:
            ref = store.get(conn, referral_id, lock=True)
            if ref is None or ref.state != State.ORDERED or ref.completed_at is None or ref.completed_at > cutoff:
                continue  # moved on since it was listed (refunded, or another worker qualified it)
            _reward(conn, rt, ref, now)
            store.change(conn, ref.id, state=State.QUALIFIED, qualified_at=now, updated_at=now)
            outbox.add(  # issue 17: same transaction as the reward
                conn,
                program_id=ref.program_id,
                type="referral_qualified",
                key=f"{ref.program_id}:referral:{ref.id}:qualified",
                member_id=ref.referrer_member_id,
                shop_id=ref.shop_id,
                payload={"referral_id": ref.id, "points": rt.settings.program.referrals.referrer_points},
            )
            qualified += 1
    if qualified:
        log.info("qualified %s referrals", qualified)
    return qualified


def _reward(conn: Connection, rt: Runtime, ref: Referral, now: datetime) -> None:
    """Available points for the referrer (and the friend): posted now, or released from pending."""
    s = rt.settings.program.referrals
    expires_at = lot_expiry(rt.settings.program.earning, now)
    for earn in _post_rewards(conn, s, ref, EntryState.AVAILABLE, expires_at):
        if earn.state == EntryState.PENDING:
            _release(conn, earn, now, expires_at)


def _post_rewards(
    conn: Connection, s: ReferralSettings, ref: Referral, state: EntryState, expires_at: datetime | None = None
) -> list[Entry]:
    """The reward entries (existing ones are returned as they are: a pending reward stays the earn entry)."""
    meta = {"order_id": ref.order_id or "", "order_total": ref.order_total or "0", "friend": ref.friend_key}
    posted = []
    if s.referrer_points:
        entry = _reward_entry(ref, ref.referrer_member_id, s.referrer_points, "referrer", meta, state, expires_at)
        posted.append(ledger.post(conn, entry)[0])
    if s.friend_points:
        friend = ref.friend_member_id or members.resolve(conn, ref.program_id, ref.shop_id, None, ref.friend_email)
        if friend is not None:
            entry = _reward_entry(ref, friend, s.friend_points, "friend", meta, state, expires_at)
            posted.append(ledger.post(conn, entry)[0])
    return posted


def _release(conn: Connection, earn: Entry, now: datetime, expires_at: datetime | None) -> None:
    """Pending -> available, as a pair of entries like an order's release."""
    for entry in release_pair(earn, earn.points, now=now, expires_at=expires_at, note="referral qualified"):
        ledger.post(conn, entry)


def _withdraw_pending(conn: Connection, ref: Referral) -> None:
    """A referral rejected during the hold takes back the pending reward it showed."""
    for who in ("referrer", "friend"):
        earn = ledger.entry_by_key(conn, reward_key(ref, who))
        if earn is not None and earn.state == EntryState.PENDING:
            note = "the referred friend's order was refunded or cancelled during the hold"
            _reverse(conn, earn, earn.points, f"{earn.idempotency_key}:reverse", EntryState.PENDING, note)


def _reward_entry(
    ref: Referral,
    member_id: int,
    points: int,
    who: str,
    meta: dict[str, str],
    state: EntryState,
    expires_at: datetime | None,
) -> NewEntry:
    return NewEntry(
        program_id=ref.program_id,
        shop_id=ref.shop_id,
        member_id=member_id,
        points=points,
        kind=EntryKind.REFERRAL,
        state=state,
        available_at=None if state == EntryState.PENDING else utcnow(),
        expires_at=None if state == EntryState.PENDING else expires_at,
        idempotency_key=reward_key(ref, who),
        cause_type=CAUSE,
        cause_id=str(ref.id),
        rule_id=who,
        note="a friend you referred became a customer" if who == "referrer" else "welcome: you were referred",
        meta=meta,
    )

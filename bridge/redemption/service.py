"""Redeeming points for a reward: reserve (debit + redemption row, one transaction), then issue the coupon.

1. ``reserve``: with the member row locked, check the reward's per-member limit, write the redemption
   (state ``reserved``, a pre-generated code) and spend the points under the key
   ``<program>:redeem:<redemption id>``. A second tab cannot overdraw: the lock serialises the two, and the
   second finds the balance already lower. The same Idempotency-Key returns the same redemption.
2. ``issuer.issue`` creates the coupon in the shop, waiting at most ``inline_wait_seconds`` for it; past
   that the redemption stays ``reserved`` and a job (enqueued here) or the recovery sweep finishes it.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import Connection

from bridge.config import ShopSettings
from bridge.connectors.woocommerce.api import ShopApiError, ShopNotFound, coupon_usage_count
from bridge.errors import IdempotencyConflict, InsufficientPoints, UnknownMember, UnknownShop
from bridge.jobs.queue import make_queue
from bridge.ledger import service as ledger
from bridge.observability import metrics, request_id
from bridge.redemption import catalogue, issuer, readiness
from bridge.redemption.codes import new_code
from bridge.redemption.model import (
    Redemption,
    RedemptionNotCancellable,
    RedemptionNotFound,
    RedemptionNotRetryable,
    RewardLimitReached,
    RewardsUnavailable,
    ShopBusy,
    State,
)
from bridge.runtime import Runtime
from bridge.storage import audit, db
from bridge.storage import members as member_store
from bridge.storage import redemptions as store
from bridge.storage.clock import utcnow
from bridge.tiers import gate as tier_gate

log = logging.getLogger(__name__)

FINISH_JOB = "bridge.redemption.jobs.finish_redemption"
LEASE_MARGIN_SECONDS = 5.0


@dataclass(frozen=True)
class Redeemed:
    redemption: Redemption
    created: bool  # False: the Idempotency-Key was used before and this is the same redemption


@metrics.counts_refusals
def redeem(
    rt: Runtime,
    *,
    shop_id: str,
    member_id: int | None = None,
    shopper: tuple[str, str] | None = None,
    reward_id: str,
    points: int | None,
    request_key: str,
    channel: str,
    actor: str = "",
) -> Redeemed:
    """Reserve, then issue inline for up to ``inline_wait_seconds``; enqueue the rest for a worker.

    The member is ``member_id``, or the one behind ``shopper`` (shop customer id, e-mail) found in the same
    transaction; a shopper who never joined has no points (``InsufficientPoints``).
    """
    settings = rt.settings.program.redemption
    shop = _shop(rt, shop_id)
    if readiness.why_not_redeemable(shop) is not None:
        # Nothing is debited for a coupon that cannot be made (the widget hides Redeem for such a shop).
        raise RewardsUnavailable("rewards cannot be redeemed in this shop yet: it is not connected for coupons")
    now = utcnow()
    with db.write(rt.engine) as conn:
        if member_id is None:
            assert shopper is not None, "name the member or the shopper"
            member_id = member_for_shopper(conn, shop.id, shopper[0])
            if member_id is None:
                raise InsufficientPoints("you have no points yet")
        red, created = reserve(
            conn,
            rt,
            shop=shop,
            member_id=member_id,
            reward_id=reward_id,
            points=points,
            request_key=request_key,
            channel=channel,
            actor=actor,
            now=now,
        )
        # A replay of a request whose process died mid-way may take the work over once the lease ran out.
        owned = created or store.claim(conn, red.id, now, _lease(rt))
    if red.state == State.RESERVED and owned:
        if settings.inline_wait_seconds > 0:
            red = issuer.issue(rt, red.id, wait_seconds=settings.inline_wait_seconds, fresh=created, known=red)
        if red.state == State.RESERVED:
            red = _hand_over(rt, red)
    return Redeemed(red, created)


def reserve(
    conn: Connection,
    rt: Runtime,
    *,
    shop: ShopSettings,
    member_id: int,
    reward_id: str,
    points: int | None,
    request_key: str,
    channel: str,
    actor: str,
    now: datetime,
) -> tuple[Redemption, bool]:
    """The debit and the ``reserved`` redemption, in the caller's transaction. Raises before writing anything
    on an unknown member/reward, invalid points, a reached limit, a reused key or too few points."""
    program = rt.settings.program
    email = store.lock_member(conn, program.id, member_id)
    if email is None:
        raise UnknownMember(f"no member {member_id} in this program")
    reward = catalogue.find(program.rewards, reward_id)
    tier_gate.check(conn, program, reward, member_id)  # issue 16: rewards only some tiers may redeem
    priced = catalogue.price(reward, points, shop.minor_unit)
    expires_at = (now + timedelta(days=reward.validity_days)).replace(microsecond=0)
    settings = program.redemption
    body: dict[str, Any] = {
        "discount_type": priced.discount_type,
        "amount": priced.value_text or "0",
        "free_shipping": reward.type == "free_shipping",
        "individual_use": reward.individual_use,
        "email": email,
        "expires_gmt": expires_at.strftime("%Y-%m-%dT%H:%M:%S"),
        "minimum_amount": catalogue.money(reward.minimum_amount, shop.minor_unit),
        "product_ids": list(reward.product_ids),
        "excluded_product_ids": list(reward.excluded_product_ids),
        "product_categories": list(reward.product_categories),
        "excluded_product_categories": list(reward.excluded_product_categories),
        "description": f"{reward.title} ({program.name}, {priced.points} points)",
    }
    values = {
        "program_id": program.id,
        "shop_id": shop.id,
        "member_id": member_id,
        "request_key": request_key,
        "reward_id": reward.id,
        "reward_type": reward.type,
        "title": reward.title,
        "points": priced.points,
        "value": priced.value_text,
        "code": new_code(settings.code_prefix, settings.code_length),
        "state": State.RESERVED,
        "coupon_body": body,
        "channel": channel,
        "actor": actor,
        "attempts": 0,
        # The lease: whoever reserved owns the first attempts; recovery waits until it runs out.
        "next_attempt_at": now + _lease(rt),
        "expires_at": expires_at,
        "created_at": now,
        "updated_at": now,
    }
    # Insert first (the key's uniqueness decides replays in one statement); anything refused below rolls it back.
    red = store.insert(conn, values)
    if red is None:
        existing = store.by_request_key(conn, member_id, request_key)
        assert existing is not None
        if existing.reward_id != reward_id or (points is not None and existing.points != points):
            raise IdempotencyConflict("this Idempotency-Key was already used for another redemption")
        return existing, False
    if reward.limit is not None:
        since = now - timedelta(days=reward.limit.period_days)
        if store.count_recent(conn, member_id, reward.id, since) > reward.limit.count:  # this one included
            raise RewardLimitReached(
                f"{reward.title} can be redeemed {reward.limit.count} time(s) every {reward.limit.period_days} days"
            )
    ledger.spend(
        conn,
        program_id=program.id,
        member_id=member_id,
        points=priced.points,
        idempotency_key=issuer.spend_key(program.id, red.id),
        cause_type="redemption",
        cause_id=str(red.id),
        shop_id=shop.id,
        note=f"redeemed: {reward.title}",
        meta={"reward_id": reward.id},
        member_locked=True,
    )
    if channel == "admin":
        audit.record(
            conn,
            program_id=program.id,
            actor=actor,
            action="redemption.create",
            target_type="member",
            target_id=str(member_id),
            details={"redemption_id": red.id, "reward_id": reward.id, "points": priced.points},
        )
    return red, True


def get(rt: Runtime, redemption_id: int, member_id: int | None = None) -> Redemption:
    """A redemption of this program (and of this member when given); 404 otherwise."""
    with db.read(rt.engine) as conn:
        red = store.get(conn, redemption_id)
    if (
        red is None
        or red.program_id != rt.settings.program.id
        or (member_id is not None and red.member_id != member_id)
    ):
        raise RedemptionNotFound(f"no redemption {redemption_id}")
    return red


def cancel(rt: Runtime, redemption_id: int, *, member_id: int | None, actor: str, force: bool = False) -> Redemption:
    """Give an unused reward back: the coupon is deleted in the shop first, then the points return.

    Raises ``RedemptionNotCancellable`` when it is already used or closed (or, for a shopper, still being
    created), and ``ShopBusy`` when the shop cannot delete the coupon now (nothing changes; try again later).
    The owner (``member_id`` None) may also cancel one stuck in ``reserved``: see ``_cancel_reserved``.
    """
    red = get(rt, redemption_id, member_id)
    if red.state == State.CANCELLED:
        return red
    if red.state == State.RESERVED and member_id is None:
        settled = _cancel_reserved(rt, red, actor=actor, force=force)
        if settled.state != State.ISSUED:
            return settled
        red = settled  # the coupon existed after all: cancelled below like any issued one
    if red.state == State.RESERVED:
        raise RedemptionNotCancellable("the coupon is still being created; try again in a moment")
    if red.state != State.ISSUED:
        raise RedemptionNotCancellable(f"this reward is {red.state} and can no longer be cancelled")
    if not withdraw_coupon(rt, red):
        raise RedemptionNotCancellable("the coupon has already been used in an order")
    now = utcnow()
    with db.write(rt.engine) as conn:
        moved = store.transition(conn, red.id, (State.ISSUED,), state=State.CANCELLED, closed_at=now, updated_at=now)
        if moved:
            _points_back_audited(conn, red, actor, "reward cancelled; points returned", {"points": red.points})
        current = store.get(conn, red.id)
    assert current is not None
    if not moved and current.state != State.CANCELLED:
        raise RedemptionNotCancellable(f"this reward is {current.state} and can no longer be cancelled")
    return current


def _cancel_reserved(rt: Runtime, red: Redemption, *, actor: str, force: bool) -> Redemption:
    """The owner ends a redemption stuck in ``reserved`` (the shop unreachable or failing).

    The code is looked up first: a coupon of ours is adopted (``issued``, then cancelled by the caller, which
    deletes it in the shop); none, and the redemption is cancelled with its points returned. When the shop
    cannot be asked, nothing changes (``ShopBusy``) unless ``force``: the owner has checked that the shop holds
    no coupon with this code (audited). A coupon an attempt still in flight creates later is deleted on arrival
    (``issuer.mark_issued``), as for any redemption settled meanwhile.
    """
    found = issuer.look_up_ours(rt, red)
    shop, unreachable = found.shop, found.unreachable
    if shop is not None and found.coupon is not None:
        return issuer.mark_issued(rt, red, shop, found.coupon)
    if unreachable and not force:
        raise ShopBusy(
            f"the shop cannot be asked whether coupon {red.code} exists ({unreachable}); nothing changed. Try again "
            "later, or cancel with force once you have checked that the shop has no coupon with this code"
        )
    now = utcnow()
    with db.write(rt.engine) as conn:
        moved = store.transition(
            conn,
            red.id,
            (State.RESERVED,),
            state=State.CANCELLED,
            failure_reason=("cancelled by the owner without asking the shop" if unreachable else None),
            closed_at=now,
            updated_at=now,
            # forced: a coupon a lost answer created may exist; it is looked up and deleted once the shop answers
            orphan_check_at=now if unreachable and shop is not None else None,
        )
        if moved:
            details = {"points": red.points, "state": str(State.RESERVED), "forced": bool(unreachable)}
            _points_back_audited(conn, red, actor, "stuck reward cancelled; points returned", details)
        current = store.get(conn, red.id)
    assert current is not None
    if not moved and current.state not in (State.CANCELLED, State.ISSUED):
        raise RedemptionNotCancellable(f"this reward is {current.state} and can no longer be cancelled")
    return current


def withdraw_coupon(rt: Runtime, red: Redemption) -> bool:
    """Delete the redemption's coupon in the shop unless an order already uses it; True when it is gone.

    Raises ``ShopBusy`` when the shop cannot be asked: nothing may be returned while the coupon may still work.
    """
    shop = _shop(rt, red.shop_id)
    if red.coupon_id is None:
        return True
    client = issuer.shop_client(shop, rt.settings.program.redemption.shop_timeout_seconds)
    try:
        try:
            coupon = client.get_coupon(red.coupon_id)
        except ShopNotFound:
            return True  # deleted in the shop already (by the owner, or by an earlier try of ours)
        if coupon_usage_count(coupon) > 0:
            return False
        with contextlib.suppress(ShopNotFound):
            client.delete_coupon(red.coupon_id)
    except ShopApiError as exc:
        raise ShopBusy(f"the shop cannot delete the coupon right now; nothing changed ({exc.code})") from exc
    return True


def member_for_shopper(conn: Connection, shop_id: str, customer_id: str) -> int | None:
    """The member behind a widget token: its shop account's, never its e-mail's (issue 12); None before they joined."""
    return member_store.by_identity(conn, shop_id, customer_id)


def mine(conn: Connection, member_id: int, limit: int = 20) -> list[Redemption]:
    return store.for_member(conn, member_id, None, limit)


def _hand_over(rt: Runtime, red: Redemption) -> Redemption:
    """Release the lease and enqueue the finishing job; without Redis, the recovery sweep finishes it."""
    now = utcnow()
    with db.write(rt.engine) as conn:
        store.transition(conn, red.id, (State.RESERVED,), next_attempt_at=now, updated_at=now)
        current = store.get(conn, red.id)
    assert current is not None
    enqueue_finish(rt, red.id)
    return current


def retry(rt: Runtime, redemption_id: int, *, actor: str) -> Redemption:
    """The owner asks for another attempt at a redemption stuck in ``reserved`` now, not at the end of its
    backoff (console "retry"); audited. The attempt runs in a worker (no shop call here).

    ``next_attempt_at`` is both the backoff and the lease of an attempt in flight, so it is moved to now only when
    nothing touched the redemption for a whole lease (no attempt can still be running): two attempts never run at
    once. Otherwise the job is only enqueued, and takes it as soon as the lease ends (as the sweep would).
    """
    red = get(rt, redemption_id)
    if red.state != State.RESERVED:
        raise RedemptionNotRetryable(f"this reward is {red.state}: only one still being created can be retried")
    now = utcnow()
    s = rt.settings.program.redemption
    job_lease = timedelta(seconds=s.shop_timeout_seconds * 3 + 10)  # as bridge.redemption.jobs._finish claims
    quiet = red.updated_at <= now - max(job_lease, _lease(rt))
    with db.write(rt.engine) as conn:
        if quiet:
            store.transition(conn, red.id, (State.RESERVED,), next_attempt_at=now, updated_at=now)
        audit.record(
            conn,
            program_id=red.program_id,
            shop_id=red.shop_id,
            actor=actor,
            action="redemption.retry",
            target_type="redemption",
            target_id=str(red.id),
            details={"attempts": red.attempts, "last_error": red.last_error, "due_now": quiet},
        )
        current = store.get(conn, red.id)
    assert current is not None
    enqueue_finish(rt, red.id)
    return current


def enqueue_finish(rt: Runtime, redemption_id: int) -> None:
    """Have a worker make the coupon of a ``reserved`` redemption nobody holds (also the tier perks' way in)."""
    try:
        make_queue(rt.redis()).enqueue_call(
            FINISH_JOB,
            args=(redemption_id,),
            timeout=int(rt.settings.program.redemption.shop_timeout_seconds * 4) + 30,
            result_ttl=60,
            failure_ttl=7 * 24 * 3600,
            description=f"finish redemption {redemption_id}",
            meta=request_id.job_meta(),
        )
    except RedisError as exc:
        log.warning("redemption %s left for the recovery sweep: redis unreachable (%s)", redemption_id, exc)


def _lease(rt: Runtime) -> timedelta:
    s = rt.settings.program.redemption
    return timedelta(seconds=s.inline_wait_seconds + s.shop_timeout_seconds + LEASE_MARGIN_SECONDS)


def _shop(rt: Runtime, shop_id: str) -> ShopSettings:
    shop = rt.settings.shop(shop_id)
    if shop is None:
        raise UnknownShop(f"no shop {shop_id!r} in the configuration")
    return shop


def _points_back_audited(conn: Any, red: Redemption, actor: str, note: str, details: dict[str, Any]) -> None:
    """A cancelled redemption's points go back, and the cancel is audited, in the caller's transaction."""
    issuer.give_back(conn, red, issuer.return_key(red), note)
    audit.record(
        conn,
        program_id=red.program_id,
        shop_id=red.shop_id,
        actor=actor,
        action="redemption.cancel",
        target_type="redemption",
        target_id=str(red.id),
        details=details,
    )

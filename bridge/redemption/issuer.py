"""Getting a reserved redemption's coupon into the shop: exactly one coupon, or the points back.

The code is fixed before the shop is called, so a coupon whose answer was lost can always be found again:
before every retry the code is looked up (``GET coupons?code=``) and a coupon that carries this redemption's
reference in its meta_data is adopted instead of created twice. A code the shop already knows for somebody
else's coupon is replaced by a fresh one. Permanent refusals (bad keys, invalid coupon) compensate: the spend
is reversed in the same transaction that marks the redemption failed.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bridge.config import RedemptionSettings, ShopSettings
from bridge.connectors.woocommerce.api import (
    CouponSpec,
    DuplicateCouponCode,
    ShopApiError,
    ShopAuthFailed,
    ShopNotFound,
    ShopRejected,
    ShopUnavailable,
    WooClient,
    coupon_payload,
    coupon_reference,
)
from bridge.ledger import service as ledger
from bridge.notifications import outbox
from bridge.redemption import readiness
from bridge.redemption.codes import new_code
from bridge.redemption.model import Redemption, State
from bridge.runtime import Runtime
from bridge.storage import db
from bridge.storage import redemptions as store
from bridge.storage.clock import utcnow

log = logging.getLogger(__name__)

INLINE_BACKOFF_SECONDS = 0.2
MAX_CODE_CHANGES = 3


@dataclass(frozen=True)
class _Outcome:
    coupon: Any = None  # the shop's coupon: created or adopted
    code_taken: bool = False  # the shop holds this code for a coupon that is not ours
    transient: str = ""  # worth retrying
    permanent: str = ""  # compensate
    absent: bool = False  # the shop answered that no coupon has this code (so giving up is safe)


if TYPE_CHECKING:
    import requests

_local = threading.local()


def shop_client(shop: ShopSettings, timeout: float) -> WooClient:
    """A client for the shop on this thread's own HTTP session: consecutive redemptions reuse the connection
    (and its TLS handshake) to the shop. Sessions are not shared between threads."""
    sessions: dict[str, requests.Session] | None = getattr(_local, "sessions", None)
    if sessions is None:
        sessions = _local.sessions = {}
    session = sessions.get(shop.id)
    if session is None:
        import requests  # with the first coupon, not with the module (see bridge.connectors.woocommerce.api)

        session = sessions[shop.id] = requests.Session()
    return WooClient.for_shop(shop, timeout=timeout, session=session)


def return_key(redemption: Redemption) -> str:
    return f"{redemption.program_id}:redeem:{redemption.id}:return"


def spend_key(program_id: str, redemption_id: int) -> str:
    return f"{program_id}:redeem:{redemption_id}"


def issue(
    rt: Runtime, redemption_id: int, *, wait_seconds: float, fresh: bool = False, known: Redemption | None = None
) -> Redemption:
    """Try to issue until it is settled or ``wait_seconds`` have passed; the caller owns the lease.

    ``fresh``: the caller reserved it just now, so its code was never sent and needs no lookup first. Any
    other caller (a job, recovery after a killed process) looks the code up before creating. ``known``: the
    row as the caller just wrote it (saves reading it again).

    At least one attempt is made. Returns the redemption as it stands afterwards (reserved when the shop is
    still unavailable: the next attempt is scheduled in ``next_attempt_at``).
    """
    settings = rt.settings.program.redemption
    deadline = time.monotonic() + wait_seconds
    give_up = timedelta(seconds=settings.give_up_after_seconds)
    code_changes = 0
    tries = 0
    while True:
        red = known if known is not None else _load(rt, redemption_id)
        known = None
        if red.state != State.RESERVED:
            return red
        shop = rt.settings.shop(red.shop_id)
        if shop is None:
            return _compensate(rt, red, f"shop {red.shop_id!r} is no longer configured")
        if cannot := readiness.why_not_redeemable(shop):  # disconnected since: it cannot be asked (owner may cancel)
            if utcnow() - red.created_at >= give_up:
                return _give_up_unanswered(rt, red, settings, cannot)
            return _record_failure(rt, red, _Outcome(transient=cannot), settings)
        remaining = deadline - time.monotonic()
        client = shop_client(shop, min(settings.shop_timeout_seconds, max(remaining, 0.5)))
        # Past the give-up time (the shop was unreachable or failing all along) nothing more is created: the code
        # is only looked up, and without a coupon of ours the points go back. The first attempt always creates.
        giving_up = not fresh and utcnow() - red.created_at >= give_up
        # A previous attempt (ours, or one by a process that died) may have created it without us hearing.
        outcome = _attempt(client, red, look_first=not fresh, create=not giving_up)
        fresh = False
        tries += 1
        if outcome.coupon is not None:
            return mark_issued(rt, red, shop, outcome.coupon)
        if giving_up and (outcome.absent or outcome.code_taken):
            return _compensate(
                rt, red, f"no coupon after {settings.give_up_after_seconds:g} s: {red.last_error or 'the shop failed'}"
            )
        if giving_up:  # the shop could not even be asked whether our coupon exists
            return _give_up_unanswered(rt, red, settings, outcome.transient or outcome.permanent)
        if outcome.code_taken and code_changes < MAX_CODE_CHANGES:
            code_changes += 1
            _change_code(rt, red, settings)
            fresh = True  # a code nobody sent yet
            continue
        if outcome.code_taken:
            return _compensate(rt, red, "the shop refused every coupon code we generated")
        if outcome.permanent:
            return _compensate(rt, red, outcome.permanent)
        red = _record_failure(rt, red, outcome, settings)
        if red.state != State.RESERVED:
            return red
        pause = INLINE_BACKOFF_SECONDS * 2 ** min(tries - 1, 4)
        if time.monotonic() + pause >= deadline:
            return red
        time.sleep(pause)


def _attempt(client: WooClient, red: Redemption, *, look_first: bool, create: bool = True) -> _Outcome:
    looked_absent = False
    try:
        if look_first:
            found = client.find_coupon_by_code(red.code)
            if found is not None:
                return _judge(found, red)
            looked_absent = True
        if not create:
            return _Outcome(absent=looked_absent)
        try:
            return _Outcome(coupon=client.create_coupon(coupon_payload(_spec(red))))
        except DuplicateCouponCode:
            found = client.find_coupon_by_code(red.code)
            return _judge(found, red) if found is not None else _Outcome(code_taken=True)
    except ShopUnavailable as exc:
        return _Outcome(transient=str(exc), absent=looked_absent)
    except (ShopAuthFailed, ShopRejected, ShopNotFound) as exc:  # 401/403, 400 invalid, 404 no WooCommerce there
        return _Outcome(permanent=str(exc))
    except ShopApiError as exc:
        # An answer we cannot read (a 2xx whose JSON a PHP notice broke, a redirect...): the coupon may exist.
        # Unknown is not "no": retry, looking the code up first.
        return _Outcome(transient=str(exc))


def _judge(found: Any, red: Redemption) -> _Outcome:
    if coupon_reference(found) == red.reference:
        return _Outcome(coupon=found)
    return _Outcome(code_taken=True)


def _spec(red: Redemption) -> CouponSpec:
    body = dict(red.coupon_body)
    body["code"] = red.code
    body["reference"] = red.reference
    for name in ("product_ids", "excluded_product_ids", "product_categories", "excluded_product_categories"):
        body[name] = tuple(body.get(name) or ())
    return CouponSpec(**body)


def _load(rt: Runtime, redemption_id: int) -> Redemption:
    with db.read(rt.engine) as conn:
        red = store.get(conn, redemption_id)
    assert red is not None, f"redemption {redemption_id} vanished"
    return red


def mark_issued(rt: Runtime, red: Redemption, shop: ShopSettings, coupon: Any) -> Redemption:
    """Record the shop's coupon as this redemption's (unless it was settled otherwise meanwhile: then the late
    coupon is deleted in the shop)."""
    now = utcnow()
    coupon_id = str(coupon.get("id")) if isinstance(coupon, dict) else None
    with db.write(rt.engine) as conn:
        current = store.moved(
            conn,
            red.id,
            (State.RESERVED,),
            state=State.ISSUED,
            coupon_id=coupon_id,
            issued_at=now,
            updated_at=now,
            last_error=None,
        )
        moved = current is not None
        if current is not None:  # issue 17: the reward is ready, in the transaction that says so
            outbox.add(
                conn,
                program_id=current.program_id,
                type="reward_issued",
                key=f"{current.program_id}:redemption:{current.id}:reward_issued",
                member_id=current.member_id,
                shop_id=current.shop_id,
                payload={
                    "redemption_id": current.id,
                    "title": current.title,
                    "code": current.code,
                    "points": current.points,
                    "expires_at": current.expires_at,
                },
            )
        current = current or store.get(conn, red.id)
    assert current is not None
    if not moved and current.coupon_id != coupon_id and coupon_id:
        # Somebody settled it otherwise meanwhile (compensated): this coupon must not stay usable.
        log.warning("redemption %s is %s; deleting the late coupon %s", red.id, current.state, coupon_id)
        try:
            shop_client(shop, rt.settings.program.redemption.shop_timeout_seconds).delete_coupon(coupon_id)
        except ShopApiError as exc:
            log.error("could not delete orphan coupon %s of redemption %s: %s", coupon_id, red.id, exc)
    return current


def _change_code(rt: Runtime, red: Redemption, settings: RedemptionSettings) -> None:
    code = new_code(settings.code_prefix, settings.code_length)
    with db.write(rt.engine) as conn:
        store.transition(conn, red.id, (State.RESERVED,), code=code, updated_at=utcnow())
    log.info("redemption %s: the shop already had its code for another coupon; trying a new code", red.id)


def _record_failure(rt: Runtime, red: Redemption, outcome: _Outcome, settings: RedemptionSettings) -> Redemption:
    now = utcnow()
    attempts = red.attempts + 1
    if outcome.absent and (now - red.created_at).total_seconds() >= settings.give_up_after_seconds:
        # The shop answered our lookup (no such coupon) yet kept failing to create it for too long.
        return _compensate(
            rt, red, f"the shop kept failing for {settings.give_up_after_seconds:g} s: {outcome.transient}"
        )
    delay = min(settings.retry_base_seconds * 2 ** (attempts - 1), settings.retry_max_seconds)
    with db.write(rt.engine) as conn:
        store.transition(
            conn,
            red.id,
            (State.RESERVED,),
            attempts=attempts,
            last_error=outcome.transient[:1000],
            next_attempt_at=max(now + timedelta(seconds=delay), red.next_attempt_at),
            updated_at=now,
        )
        current = store.get(conn, red.id)
    assert current is not None
    log.warning("redemption %s: shop unavailable (attempt %s): %s", red.id, attempts, outcome.transient)
    return current


def _compensate(rt: Runtime, red: Redemption, reason: str) -> Redemption:
    return compensate(rt, red.id, reason)


def _give_up_unanswered(rt: Runtime, red: Redemption, settings: RedemptionSettings, why: str) -> Redemption:
    """Past ``give_up_after_seconds`` with a shop that cannot be asked: a redemption must end, so the points go back
    now. A create whose answer was lost may still have made the coupon, so the code goes on the orphan list: when
    the shop answers again, ``check_orphan`` deletes a coupon of ours found under it. (The shopper was never shown
    the code of a reserved redemption, so nobody can use such a coupon meanwhile.)"""
    reason = f"the shop could not be asked for {settings.give_up_after_seconds:g} s: {why or red.last_error or '-'}"
    return compensate(rt, red.id, reason, orphan_check=True)


@dataclass(frozen=True)
class Lookup:
    """What the shop holds under a redemption's code."""

    shop: ShopSettings | None
    coupon: Any = None  # the shop's coupon of this redemption (None: the shop has none of ours)
    unreachable: str = ""  # why the shop could not be asked ("" when it answered)


def look_up_ours(rt: Runtime, red: Redemption) -> Lookup:
    """Ask the shop for a coupon of this redemption under its code (called with no write transaction open)."""
    shop = rt.settings.shop(red.shop_id)
    if cannot := readiness.why_not_redeemable(shop):
        return Lookup(shop, unreachable=cannot)
    assert shop is not None
    try:
        found = shop_client(shop, rt.settings.program.redemption.shop_timeout_seconds).find_coupon_by_code(red.code)
    except ShopApiError as exc:
        return Lookup(shop, unreachable=str(exc))
    return Lookup(shop, coupon=found if found is not None and coupon_reference(found) == red.reference else None)


def check_orphan(rt: Runtime, red: Redemption, now: datetime) -> str:
    """Look a given-up redemption's code up in the shop and delete a coupon of ours found under it.

    Returns ``deleted``, ``clear`` (no coupon of ours) or ``later`` (the shop cannot be asked yet: checked again
    after ``retry_max_seconds``). The shop is called before any write transaction opens.
    """
    settings = rt.settings.program.redemption
    found = look_up_ours(rt, red)
    result = "clear"  # no coupon of ours, or a shop no longer configured: nothing left to delete
    if found.shop is not None and found.unreachable:
        log.warning("redemption %s: its code cannot be looked up yet (%s)", red.id, found.unreachable)
        result = "later"
    elif found.shop is not None and found.coupon is not None:
        try:
            shop_client(found.shop, settings.shop_timeout_seconds).delete_coupon(str(found.coupon.get("id")))
            result = "deleted"
        except ShopApiError as exc:
            log.warning("redemption %s: its orphan coupon cannot be deleted yet (%s)", red.id, exc)
            result = "later"
    due = now + timedelta(seconds=settings.retry_max_seconds) if result == "later" else None
    with db.write(rt.engine) as conn:
        store.set_orphan_check(conn, red.id, due)
    if result == "deleted":
        log.warning("redemption %s: deleted the coupon created after it was given up", red.id)
    return result


def compensate(
    rt: Runtime, redemption_id: int, reason: str, now: datetime | None = None, *, orphan_check: bool = False
) -> Redemption:
    """Settle a reserved redemption as failed and give its points back, in one transaction (``orphan_check``: its
    code is looked up later, see ``_give_up_unanswered``)."""
    now = now or utcnow()
    with db.write(rt.engine) as conn:
        red = store.get(conn, redemption_id)
        assert red is not None
        moved = store.transition(
            conn,
            red.id,
            (State.RESERVED,),
            state=State.FAILED,
            failure_reason=reason[:1000],
            closed_at=now,
            updated_at=now,
            **({"orphan_check_at": now} if orphan_check else {}),
        )
        if moved:
            give_back(conn, red, return_key(red), "coupon could not be created; points returned")
        current = store.get(conn, red.id)
    assert current is not None
    if moved:
        log.warning("redemption %s failed and was compensated: %s", red.id, reason)
    return current


def give_back(conn: Any, red: Redemption, key: str, note: str, points: int | None = None) -> int:
    """Return ``points`` (default: all not yet returned) of the redemption's spend; the points returned."""
    spend = ledger.entry_by_key(conn, spend_key(red.program_id, red.id))
    if spend is None:
        return 0
    left = -spend.points - ledger.returned_points(conn, spend.id)
    amount = left if points is None else min(points, left)
    if amount <= 0:
        return 0
    ledger.return_spent(
        conn,
        spend=spend,
        points=amount,
        idempotency_key=key,
        cause_type="redemption",
        cause_id=str(red.id),
        note=note,
    )
    return amount

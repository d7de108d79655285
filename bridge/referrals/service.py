"""Referral codes and links, clicks, and the friend's claim of a welcome coupon.

A claim is "reserve, then issue" like a redemption: the referral row (unique per folded friend e-mail) is
inserted with a pre-chosen coupon code *before* the shop is called, so twenty concurrent claims for one friend
make one row and one coupon, and a coupon created by a call whose answer was lost is found again by its code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import Connection, func, select

from bridge.config import ReferralSettings, ShopSettings
from bridge.connectors.woocommerce.api import (
    CouponSpec,
    DuplicateCouponCode,
    ShopApiError,
    ShopUnavailable,
    WooClient,
    coupon_payload,
    coupon_reference,
)
from bridge.errors import BridgeError, MalformedPayload, UnknownShop
from bridge.members import service as members
from bridge.notifications import outbox
from bridge.redemption.codes import new_code
from bridge.referrals import attribution, codes
from bridge.referrals.model import (
    ClaimInProgress,
    Reason,
    Referral,
    ReferralCheckUnavailable,
    ReferralRefused,
    ReferralsDisabled,
    State,
    fold_email,
)
from bridge.runtime import Runtime
from bridge.storage import db
from bridge.storage import members as member_store
from bridge.storage import referrals as store
from bridge.storage import tables as t
from bridge.storage.clock import utcnow
from bridge.storage.secretbox import box_for

log = logging.getLogger(__name__)

COUPON_CODE_LENGTH = 12  # the same unambiguous CSPRNG codes as reward coupons (bridge.redemption.codes)
PAID_HISTORY_STATUSES = ("processing", "completed", "refunded")
"""An order in one of these has been paid: its buyer is an existing customer."""


class VanityCodeTaken(BridgeError):
    code = "referral_code_taken"
    status = 409


class CouponNotIssued(BridgeError):
    code = "referral_coupon_failed"
    status = 502


@dataclass(frozen=True)
class Claimed:
    referral: Referral
    created: bool


def settings_of(rt: Runtime) -> ReferralSettings:
    s = rt.settings.program.referrals
    if not s.enabled:
        raise ReferralsDisabled("the referral program is not enabled")
    return s


# -- codes and links -----------------------------------------------------------------------------------------------
def code_for(conn: Connection, rt: Runtime, member_id: int) -> str:
    """The member's active code: an approved vanity code, else the generated one (created on first use)."""
    existing = [c for c in store.codes_of(conn, member_id) if c["active"]]
    for kind in ("vanity", "generated"):
        for row in existing:
            if row["kind"] == kind:
                return str(row["code"])
    length = rt.settings.program.referrals.code_length
    while True:
        code = codes.generate(length)
        if store.add_code(
            conn, program_id=rt.settings.program.id, member_id=member_id, code=code, kind="generated", now=utcnow()
        ):
            return code


def set_vanity(conn: Connection, rt: Runtime, member_id: int, code: str) -> str:
    """An owner-approved vanity code replaces the member's previous vanity code (the generated one keeps working)."""
    normalized = codes.normalize(code)
    if not codes.valid_vanity(normalized):
        raise MalformedPayload("a vanity code is 4-32 letters, digits or '-'")
    owner = store.code_owner(conn, rt.settings.program.id, normalized)
    if owner is not None and owner["member_id"] != member_id:
        raise VanityCodeTaken(f"the code {normalized} belongs to another member")
    store.deactivate_codes(conn, member_id, "vanity")
    if owner is None:
        store.add_code(
            conn, program_id=rt.settings.program.id, member_id=member_id, code=normalized, kind="vanity", now=utcnow()
        )
    else:
        conn.execute(t.referral_code.update().where(t.referral_code.c.id == owner["id"]).values(active=True))
    return normalized


def link_for(rt: Runtime, shop_id: str, code: str, request_base: str) -> str:
    own = rt.settings.program.referrals.link_settings(shop_id).link_base
    base = own or rt.settings.public_url or request_base.rstrip("/")
    single = len(rt.settings.shops) <= 1
    return f"{base}/r/{code}" if single else f"{base}/r/{code}?shop={shop_id}"


def active_owner(conn: Connection, program_id: str, code: str) -> dict[str, Any] | None:
    owner = store.code_owner(conn, program_id, codes.normalize(code))
    return owner if owner and owner["active"] else None


# -- clicks --------------------------------------------------------------------------------------------------------
def landing_url(rt: Runtime, shop: ShopSettings, code: str | None) -> str:
    path = rt.settings.program.referrals.link_settings(shop.id).landing_path
    url = shop.url + path
    return f"{url}{'&' if '?' in url else '?'}ref={code}" if code else url


CLICK_WINDOW_SECONDS = 30 * 60
"""One recorded click per (code, visitor IP) per window: reloads and scripted GETs do not each write a row."""


def record_click(rt: Runtime, shop_id: str, code: str, ip: str, user_agent: str) -> str | None:
    """Record a click on a referral link; returns the code when it is a live one (None: redirect without it).

    A click is written only for the first visit of an IP to a code within ``CLICK_WINDOW_SECONDS`` (a Redis
    ``SET NX EX`` on the keyed IP hash, so Redis holds no raw address). When Redis cannot say, the click is
    not recorded: clicks are statistics, and an outage must not turn every GET into a database write (on
    SQLite they would queue behind the webhook intake's). The redirect works either way.
    """
    if not rt.settings.program.referrals.enabled:
        return None
    box = box_for(rt.settings, create=True)
    assert box is not None
    with db.read(rt.engine) as conn:
        owner = active_owner(conn, rt.settings.program.id, code)
    if owner is None:
        return None
    live = str(owner["code"])
    ip_hash = box.digest(f"ip:{ip}")
    if _first_click_in_window(rt, live, ip_hash):
        with db.write(rt.engine) as conn:
            store.add_click(
                conn,
                program_id=rt.settings.program.id,
                shop_id=shop_id,
                code=live,
                member_id=owner["member_id"],
                ip_hash=ip_hash,
                ua_hash=box.digest(f"ua:{user_agent}"),
                created_at=utcnow(),
            )
    return live


def _first_click_in_window(rt: Runtime, code: str, ip_hash: str) -> bool:
    key = f"bridge:click:{rt.settings.program.id}:{code}:{ip_hash}"
    try:
        return bool(rt.redis().set(key, 1, nx=True, ex=CLICK_WINDOW_SECONDS))
    except RedisError as exc:
        log.warning("referral click on %s not recorded: redis unreachable (%s)", code, exc)
        return False


# -- the friend's claim --------------------------------------------------------------------------------------------
def offer(rt: Runtime, code: str) -> dict[str, Any]:
    s = settings_of(rt)
    with db.read(rt.engine) as conn:
        if active_owner(conn, rt.settings.program.id, code) is None:
            raise ReferralRefused(Reason.UNKNOWN_CODE, "this referral link is not valid (any more)")
    return {"title": s.friend_reward.title, "description": s.friend_reward.description}


def claim(rt: Runtime, shop_id: str, code: str, email: str) -> Claimed:
    """Check the friend is eligible, record the referral, create the welcome coupon in the shop."""
    s = settings_of(rt)
    shop = rt.settings.shop(shop_id)
    if shop is None:
        raise UnknownShop(f"no shop {shop_id!r}")
    friend_email = members.normalize_email(email)
    friend_key = fold_email(friend_email)
    program_id = rt.settings.program.id
    with db.read(rt.engine) as conn:
        owner = active_owner(conn, program_id, code)
        if owner is None:
            raise ReferralRefused(Reason.UNKNOWN_CODE, "this referral link is not valid (any more)")
        existing = store.by_friend(conn, program_id, friend_key)
        referrer = member_store.get(conn, program_id, owner["member_id"])
        known_customer = _customer_in_our_records(conn, program_id, friend_email)
    assert referrer is not None
    if existing is not None:
        return _repeat_claim(rt, shop, existing, owner["code"])
    if fold_email(referrer["email"]) == friend_key:
        raise ReferralRefused(Reason.SELF, "you cannot refer yourself")
    if known_customer is None:  # we hold no history for this e-mail: ask the shop
        known_customer = _customer_in_shop(rt, shop, friend_email)
    if known_customer:
        raise ReferralRefused(Reason.EXISTING_CUSTOMER, "welcome back! this offer is for new customers")
    return _reserve_and_issue(rt, shop, s, owner, friend_email, friend_key)


def _repeat_claim(rt: Runtime, shop: ShopSettings, existing: Referral, code: str) -> Claimed:
    """The same friend again: the same coupon for the same link (a retry), a refusal for anybody else's."""
    if existing.code != code:
        raise ReferralRefused(Reason.ALREADY_REFERRED, "this e-mail address was already invited by someone else")
    if existing.state == State.CLAIMING and existing.updated_at > utcnow() - timedelta(seconds=30):
        raise ClaimInProgress("your welcome coupon is being created: try again in a moment")
    if existing.state in (State.CLAIMING, State.FAILED):
        return Claimed(_issue(rt, shop, existing, look_first=True), created=False)
    if existing.state == State.REJECTED:
        raise ReferralRefused(Reason(existing.reason), "this referral can no longer be used")
    return Claimed(existing, created=False)


def _reserve_and_issue(
    rt: Runtime, shop: ShopSettings, s: ReferralSettings, owner: dict[str, Any], friend_email: str, friend_key: str
) -> Claimed:
    now = utcnow()
    program_id = rt.settings.program.id
    with db.write(rt.engine) as conn:
        # Refused early when the link already brought its month's customers (a claim alone never counts: the
        # order's attribution enforces the cap, see attribution.cap_reached).
        if attribution.cap_reached(conn, s, owner["member_id"], now):
            raise ReferralRefused(Reason.REFERRER_CAP, "this referral link has reached its limit for this month")
        referral_id = store.insert_referral(
            conn,
            {
                "program_id": program_id,
                "shop_id": shop.id,
                "referrer_member_id": owner["member_id"],
                "code": owner["code"],
                "friend_key": friend_key,
                "friend_email": friend_email,
                "state": State.CLAIMING,
                "reason": "",
                "coupon_code": new_code("", COUPON_CODE_LENGTH).lower(),
                "coupon_expires_at": now + timedelta(days=s.friend_reward.validity_days),
                "created_at": now,
                "updated_at": now,
            },
        )
    if referral_id is None:  # another request for this friend got there first
        with db.read(rt.engine) as conn:
            existing = store.by_friend(conn, program_id, friend_key)
        assert existing is not None
        return _repeat_claim(rt, shop, existing, owner["code"])
    with db.read(rt.engine) as conn:
        fresh = store.get(conn, referral_id)
    assert fresh is not None
    return Claimed(_issue(rt, shop, fresh, look_first=False), created=True)


def _issue(rt: Runtime, shop: ShopSettings, ref: Referral, *, look_first: bool) -> Referral:
    """Create the welcome coupon (or adopt one a lost answer created); the referral becomes ``invited``."""
    client = WooClient.for_shop(shop, timeout=rt.settings.program.redemption.shop_timeout_seconds)
    body = coupon_payload(_coupon_spec(rt.settings.program.referrals, ref))
    try:
        coupon = _find_ours(client, ref) if look_first else None
        if coupon is None:
            try:
                coupon = client.create_coupon(body)
            except (DuplicateCouponCode, ShopUnavailable):
                coupon = _find_ours(client, ref)  # a previous attempt may have created it after all
                if coupon is None:
                    raise
    except ShopUnavailable as exc:
        _touch(rt, ref, last_state=State.CLAIMING)
        raise ClaimInProgress("the shop is busy: try again in a moment; your place is kept") from exc
    except ShopApiError as exc:
        log.warning("referral %s: the shop refused the welcome coupon: %s", ref.id, exc)
        _touch(rt, ref, last_state=State.FAILED)
        raise CouponNotIssued("the shop could not create your welcome coupon; please try again later") from exc
    now = utcnow()
    with db.write(rt.engine) as conn:
        store.change(
            conn,
            ref.id,
            state=State.INVITED,
            coupon_id=str(coupon.get("id")) if isinstance(coupon, dict) else None,
            updated_at=now,
        )
        outbox.add(  # issue 17: the referrer hears that a friend took up the invitation (same transaction)
            conn,
            program_id=ref.program_id,
            type="referral_friend_joined",
            key=f"{ref.program_id}:referral:{ref.id}:friend_joined",
            member_id=ref.referrer_member_id,
            shop_id=ref.shop_id,
            payload={"referral_id": ref.id},
        )
        current = store.get(conn, ref.id)
    assert current is not None
    return current


def _find_ours(client: WooClient, ref: Referral) -> Any:
    found = client.find_coupon_by_code(ref.coupon_code)
    if found is not None and coupon_reference(found) != reference_of(ref):
        raise DuplicateCouponCode(f"coupon {ref.coupon_code} exists and is not this referral's")
    return found


def _touch(rt: Runtime, ref: Referral, last_state: State) -> None:
    with db.write(rt.engine) as conn:
        store.change(conn, ref.id, state=last_state, updated_at=utcnow())


def reference_of(ref: Referral) -> str:
    return f"referral:{ref.id}"


def _coupon_spec(s: ReferralSettings, ref: Referral) -> CouponSpec:
    reward = s.friend_reward
    return CouponSpec(
        code=ref.coupon_code,
        discount_type="percent" if reward.type == "percent" else "fixed_cart",
        amount="0" if reward.type == "free_shipping" else str(reward.value),
        free_shipping=reward.type == "free_shipping",
        individual_use=reward.individual_use,
        email=ref.friend_email,
        expires_gmt=ref.coupon_expires_at.strftime("%Y-%m-%dT%H:%M:%S"),
        minimum_amount=str(reward.minimum_amount),
        product_ids=(),
        excluded_product_ids=(),
        product_categories=(),
        excluded_product_categories=(),
        description=reward.title,
        reference=reference_of(ref),
    )


def _customer_in_our_records(conn: Connection, program_id: str, email: str) -> bool | None:
    """True: a paid order under this e-mail; False: we know the person and they never paid; None: unknown."""
    member_id = member_store.by_email(conn, program_id, email)
    if member_id is None:
        return None
    o = t.order_state.c
    stmt = select(o.id).where(o.member_id == member_id, o.status.in_(PAID_HISTORY_STATUSES)).limit(1)
    if conn.execute(stmt).first() is not None:
        return True
    any_order = conn.execute(select(o.id).where(o.member_id == member_id).limit(1)).first()
    return False if any_order is not None else None


def _customer_in_shop(rt: Runtime, shop: ShopSettings, email: str) -> bool:
    """Whether the shop has a paid order under this billing e-mail (for history older than the bridge)."""
    if not (shop.consumer_key and shop.consumer_secret):
        return False  # no API access: our own records are all we have
    client = WooClient.for_shop(shop, timeout=rt.settings.program.redemption.shop_timeout_seconds)
    try:
        found = client.get("orders", search=email, per_page=20, status="any")
    except ShopApiError as exc:
        raise ReferralCheckUnavailable(
            "we cannot check your eligibility right now: please try again in a few minutes"
        ) from exc
    for order in found if isinstance(found, list) else []:
        billing = order.get("billing") if isinstance(order, dict) else None
        same = isinstance(billing, dict) and members.normalize_email(str(billing.get("email", ""))) == email
        if same and order.get("status") in PAID_HISTORY_STATUSES:
            return True
    return False


def shopper_summary(conn: Connection, rt: Runtime, shop_id: str, member_id: int, request_base: str) -> dict[str, Any]:
    """The widget's referral section: link, code, funnel counts and points earned from referrals."""
    s = rt.settings.program.referrals
    code = code_for(conn, rt, member_id)
    states = store.state_counts(conn, member_id)
    ordered = states.get(State.ORDERED, 0) + states.get(State.QUALIFIED, 0)
    invited = ordered + states.get(State.INVITED, 0) + states.get(State.REJECTED, 0)
    le = t.ledger_entry.c
    earned = conn.scalar(
        select(func.coalesce(func.sum(le.points), 0)).where(
            le.member_id == member_id, le.cause_type == "referral", le.rule_id == "referrer"
        )
    )
    return {
        "code": code,
        "link": link_for(rt, shop_id, code, request_base),
        "counts": {
            "clicks": store.clicks_of(conn, member_id),
            "invited": invited,
            "ordered": ordered,
            "qualified": states.get(State.QUALIFIED, 0),
        },
        "points_earned": int(earned or 0),
        "referrer_points": s.referrer_points,
        "friend_offer": {"title": s.friend_reward.title, "description": s.friend_reward.description},
    }


def program_stats(conn: Connection, program_id: str) -> dict[str, Any]:
    """The program's referral funnel (clicks, claims, orders, qualified), states, revenue, top referrers and the
    reasons of rejections: the admin API's ``/referrals/stats`` and the console's Referrals page."""
    funnel = store.funnel(conn, program_id)
    clicks = store.clicks_total(conn, program_id)
    by_state = funnel["by_state"]
    claims = sum(n for state, n in by_state.items() if state not in (State.CLAIMING, State.FAILED))
    ordered = by_state.get(State.ORDERED, 0) + by_state.get(State.QUALIFIED, 0)
    revenue = sum((Decimal(total or "0") for total in funnel["qualified_totals"]), Decimal(0))
    return {
        "funnel": {
            "clicks": clicks,
            "claims": claims,
            "orders": ordered,
            "qualified": by_state.get(State.QUALIFIED, 0),
        },
        "by_state": by_state,
        "referred_revenue": str(revenue),
        "top_referrers": funnel["top"],
        "rejections": funnel["reasons"],
    }

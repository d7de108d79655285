"""Referral states, refusal reasons and errors. Pure."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bridge.errors import BridgeError


class State(enum.StrEnum):
    CLAIMING = "claiming"  # the friend's row exists, the coupon is being created
    INVITED = "invited"  # the friend holds a welcome coupon
    ORDERED = "ordered"  # a paid order is attributed to the referral
    QUALIFIED = "qualified"  # that order is complete and past the hold: the referrer is rewarded
    REJECTED = "rejected"  # never rewarded; ``reason`` says why
    FAILED = "failed"  # the shop refused the coupon; a new claim may try again


class Reason(enum.StrEnum):
    """Why a claim is refused or a referral rejected: codes the owner reads in reports (and the API returns)."""

    DISABLED = "disabled"
    UNKNOWN_CODE = "unknown_code"
    SELF = "self"  # the friend is the referrer (same folded e-mail)
    SELF_CUSTOMER = "self_customer"  # the order was placed with the referrer's shop account
    SELF_CONTACT = "self_contact"  # the order's billing phone or address is the referrer's
    EXISTING_CUSTOMER = "existing_customer"  # the friend already bought in the shop
    ALREADY_REFERRED = "already_referred"
    REFERRER_CAP = "referrer_cap"
    BELOW_MINIMUM = "below_minimum"  # the attributed order is smaller than the qualifying minimum
    ORDER_CANCELLED = "order_cancelled"  # cancelled, failed or deleted before qualifying
    ORDER_REFUNDED = "order_refunded"  # refunded before qualifying


class ReferralRefused(BridgeError):
    status = 422

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.code = f"referral_{reason}"


class ClaimInProgress(BridgeError):
    """Another request for the same friend is creating the coupon right now; retrying shortly returns it."""

    code = "referral_claim_in_progress"
    status = 409


class ReferralCheckUnavailable(BridgeError):
    """The shop could not tell whether the friend already bought there: refuse for now rather than guess."""

    code = "referral_check_unavailable"
    status = 503


class ReferralsDisabled(BridgeError):
    code = "referrals_disabled"
    status = 404


@dataclass(frozen=True)
class Referral:
    id: int
    program_id: str
    shop_id: str
    referrer_member_id: int
    code: str
    friend_key: str
    friend_email: str
    friend_member_id: int | None
    state: str
    reason: str
    coupon_code: str
    coupon_id: str | None
    coupon_expires_at: datetime
    order_id: str | None
    order_total: str | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    ordered_at: datetime | None
    qualified_at: datetime | None
    rejected_at: datetime | None

    @property
    def net_total(self) -> Decimal:
        return Decimal(self.order_total or "0")


def fold_email(raw: str) -> str:
    """One key per person: trimmed, lower-case, ``+tags`` dropped, and Gmail's dots ignored (googlemail = gmail)."""
    email = raw.strip().lower()
    local, at, domain = email.rpartition("@")
    if not at:
        return email
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"

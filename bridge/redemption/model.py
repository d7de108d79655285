"""What a redemption is and the errors a redeem can end in. Pure: no database, no web, no HTTP."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.errors import BridgeError


class State(enum.StrEnum):
    RESERVED = "reserved"  # points debited, coupon not (yet known to be) in the shop
    ISSUED = "issued"  # the coupon exists in the shop, unused
    USED = "used"  # an order carries the code
    EXPIRED = "expired"  # unused past its date: deleted in the shop, points returned by policy
    CANCELLED = "cancelled"  # the shopper (or support) gave it back: deleted in the shop, points returned
    FAILED = "failed"  # the shop refused it for good: points returned


OPEN_STATES = (State.RESERVED, State.ISSUED, State.USED, State.EXPIRED)
"""States that count against a reward's per-member limit (failed and cancelled ones gave the points back)."""


@dataclass(frozen=True)
class Redemption:
    id: int
    program_id: str
    shop_id: str
    member_id: int
    request_key: str
    reward_id: str
    reward_type: str
    title: str
    points: int
    value: str | None
    code: str
    state: str
    coupon_id: str | None
    coupon_body: dict[str, Any]
    order_id: str | None
    channel: str
    actor: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    failure_reason: str | None
    expires_at: datetime
    created_at: datetime
    updated_at: datetime
    issued_at: datetime | None
    closed_at: datetime | None
    orphan_check_at: datetime | None = None

    @property
    def reference(self) -> str:
        """What the shop coupon's meta_data carries, so a coupon is recognised as this redemption's."""
        return f"{self.program_id}:{self.id}"


class RewardNotFound(BridgeError):
    code = "reward_not_found"
    status = 404


class RedemptionNotFound(BridgeError):
    code = "redemption_not_found"
    status = 404


class InvalidPoints(BridgeError):
    """A variable reward asked for an amount of points it does not offer."""

    code = "invalid_points"
    status = 422


class RewardLimitReached(BridgeError):
    code = "reward_limit_reached"
    status = 409


class RedemptionNotCancellable(BridgeError):
    code = "redemption_not_cancellable"
    status = 409


class RedemptionNotRetryable(BridgeError):
    """Only a redemption still waiting for its coupon (``reserved``) can be tried again."""

    code = "redemption_not_retryable"
    status = 409


class IdempotencyKeyRequired(BridgeError):
    code = "idempotency_key_required"
    status = 400


class RewardsUnavailable(BridgeError):
    """The shop cannot issue coupons (no REST API access): nothing is debited."""

    code = "rewards_unavailable"
    status = 409


class ShopBusy(BridgeError):
    """The shop could not be reached for a change that must happen there first (deleting a coupon)."""

    code = "shop_unavailable"
    status = 503

"""Domain exceptions, one flat module, each named for what happened.

Web handlers map them to HTTP in one place (``bridge.web.errors``); ``code`` is the stable machine-readable
identifier that API clients may rely on.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class BridgeError(Exception):
    """Base class: ``code`` is stable, the message is for humans and never carries secrets."""

    code = "bridge_error"
    status = 500


class ConfigError(BridgeError):
    """The configuration cannot be used; names the file, the key and the reason."""

    code = "config_error"

    def __init__(self, source: str, key: str, reason: str) -> None:
        super().__init__(f"{source}: {key}: {reason}")
        self.source = source
        self.key = key
        self.reason = reason

    @classmethod
    def unknown_key(cls, source: str, key: str, known: Iterable[str]) -> ConfigError:
        """``key`` (dotted path) is not one of ``known`` at its level: suggest the closest spelling."""
        name = key.rsplit(".", 1)[-1]
        choices = sorted(known)
        close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return cls(source, key, f"unknown key; {hint}(known: {', '.join(choices)})")


class UnknownShop(BridgeError):
    code = "unknown_shop"
    status = 404


class InvalidSignature(BridgeError):
    code = "invalid_signature"
    status = 401


class PermanentError(BridgeError):
    """Wrong input that trying again cannot fix: a delivery failing with it is parked ``failed`` at once."""


class MalformedPayload(PermanentError):
    """A delivery or request body that cannot be read as what it claims to be."""

    code = "malformed_payload"
    status = 400


class UnknownMember(BridgeError):
    code = "member_not_found"
    status = 404


class InsufficientPoints(BridgeError):
    code = "insufficient_points"
    status = 409


class InboxDeliveryNotFound(BridgeError):
    code = "delivery_not_found"
    status = 404


class IdempotencyConflict(BridgeError):
    """The same idempotency key was already used for a different request."""

    code = "idempotency_conflict"
    status = 409


class PointsOutOfRange(PermanentError):
    """A ledger entry past ``bridge.limits.MAX_POINTS``: computed from input that cannot be right."""

    code = "points_out_of_range"
    status = 422


class TierRequired(BridgeError):
    """A reward only some tiers may redeem, asked for by a member of another tier (issue 16)."""

    code = "tier_required"
    status = 403


class TiersNotConfigured(BridgeError):
    code = "tiers_not_configured"
    status = 409


class UnknownTier(BridgeError):
    code = "unknown_tier"
    status = 422


class TierIsEarned(BridgeError):
    """With ``program.tiers`` a tier is earned (or overridden until a date), not set as a profile field."""

    code = "tier_is_earned"
    status = 409


class UnknownSegment(BridgeError):
    code = "segment_not_found"
    status = 404


class ShopRequired(BridgeError):
    """A money report over shops of several currencies: sums of different currencies mean nothing (issue 18)."""

    code = "shop_required"
    status = 400

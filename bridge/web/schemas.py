"""Marshmallow schemas for our own API: inputs reject unknown fields, outputs are explicit."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from bridge import limits
from bridge.storage.inbox import STATES


# -- one field per kind of value, bounded as ``bridge.limits`` says: every schema builds its inputs from these --
def row_id(**kwargs: Any) -> fields.Integer:
    """One of our rows (member, redemption, delivery...): 1 to 2**63 - 1, whole (``1.5`` is not 1)."""
    return fields.Integer(strict=kwargs.pop("strict", False), validate=validate.Range(1, limits.MAX_ROW_ID), **kwargs)


def text_id(**kwargs: Any) -> fields.String:
    """A text identifier: a shop, a reward, a code."""
    return fields.String(validate=validate.Length(min=1, max=limits.MAX_ID_LENGTH), **kwargs)


def email(**kwargs: Any) -> fields.Email:
    return fields.Email(validate=validate.Length(max=limits.MAX_EMAIL_LENGTH), **kwargs)


def points(*, minimum: int, **kwargs: Any) -> fields.Integer:
    """A number of points in a JSON body: a whole number, at most ``MAX_POINTS`` either way."""
    return fields.Integer(strict=True, validate=validate.Range(minimum, limits.MAX_POINTS), **kwargs)


def page_limit() -> fields.Integer:
    return fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class MemberQuery(_Strict):
    email = email(load_default=None)
    # issue 15: what the console's search box takes (a name's words, an e-mail, ids, a code), newest first,
    # continued by ``before`` (the ``next_before`` of the last page)
    q = fields.String(load_default=None, validate=validate.Length(min=1, max=320))
    before = row_id(load_default=None)
    limit = page_limit()
    segment = text_id(load_default=None)  # issue 16: the segment's members, a keyset page after ``after``
    after = fields.Integer(load_default=0, validate=validate.Range(0, limits.MAX_ROW_ID))


class PageQuery(_Strict):
    limit = page_limit()
    before = row_id(load_default=None)


class InboxQuery(PageQuery):
    state = fields.String(load_default=None, validate=validate.OneOf(STATES))
    shop = text_id(load_default=None)


class AdjustmentIn(_Strict):
    points = points(minimum=-limits.MAX_POINTS, required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))

    @validates("points")
    def _not_zero(self, value: int, data_key: str) -> None:
        if value == 0:
            raise ValidationError("must not be zero")


class BalanceOut(Schema):
    available = fields.Integer()
    pending = fields.Integer()
    lifetime = fields.Integer()


class IdentityOut(Schema):
    shop_id = fields.String()
    customer_id = fields.String(attribute="platform_customer_id")


class MemberOut(Schema):
    id = fields.Integer()
    program_id = fields.String()
    email = fields.String()
    created_at = fields.DateTime()
    identities = fields.List(fields.Nested(IdentityOut))
    balance = fields.Nested(BalanceOut)
    tier = fields.Raw(allow_none=True)  # issue 16: {id, name, since, source}, null below the first level
    name = fields.String(allow_none=True)  # issue 15: the shop's name for the member (null: none known)


class EntryOut(Schema):
    id = fields.Integer()
    points = fields.Integer()
    kind = fields.String()
    state = fields.String()
    shop_id = fields.String(allow_none=True)  # none: an adjustment, a tier bonus, a gift (no shop caused it)
    cause = fields.Method("_cause")
    reverses_entry_id = fields.Integer(allow_none=True)
    note = fields.String()
    created_at = fields.DateTime()
    program_version = fields.Integer(allow_none=True)  # issue 14: the program version an order award used

    def _cause(self, entry: object) -> dict[str, str]:
        return {
            "type": getattr(entry, "cause_type", ""),
            "id": getattr(entry, "cause_id", ""),
            "rule": getattr(entry, "rule_id", ""),
            "refund": getattr(entry, "refund_id", ""),
        }


class DeliveryOut(Schema):
    id = fields.Integer()
    shop_id = fields.String()
    topic = fields.String()
    resource_id = fields.String()
    platform_delivery_id = fields.String()
    state = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime()
    last_error = fields.String(allow_none=True)
    received_at = fields.DateTime()
    processed_at = fields.DateTime(allow_none=True)


# -- query strings routes once read value by value (issue 19: described, and held to what is described); the widget
# sends exactly these (widgets/loyalty-bridge.js), so an unknown parameter is refused like everywhere else ----------
def locale() -> fields.String:
    return fields.String(metadata={"description": "the widget's language (en, fa-IR...); else Accept-Language"})


class ShopQuery(_Strict):
    shop = text_id(load_default=None, metadata={"description": "a shop's id; default: the first shop"})


class ClubQuery(_Strict):
    shop = text_id(required=True)
    locale = locale()


class OfferQuery(_Strict):
    shop = text_id(load_default=None, metadata={"description": "required when the bridge serves several shops"})
    code = fields.String(load_default="", validate=validate.Length(max=limits.MAX_ID_LENGTH))
    locale = locale()


class StatusQuery(_Strict):
    check = fields.Boolean(load_default=True, metadata={"description": "false: do not ask the shop"})

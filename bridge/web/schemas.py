"""Marshmallow schemas for our own API: inputs reject unknown fields, outputs are explicit."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from bridge.storage.inbox import STATES


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class MemberQuery(_Strict):
    email = fields.Email(load_default=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class PageQuery(_Strict):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    before = fields.Integer(load_default=None, validate=validate.Range(min=1))


class InboxQuery(PageQuery):
    state = fields.String(load_default=None, validate=validate.OneOf(STATES))
    shop = fields.String(load_default=None)


class AdjustmentIn(_Strict):
    points = fields.Integer(required=True, strict=True, validate=validate.Range(min=-1_000_000_000, max=1_000_000_000))
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


class EntryOut(Schema):
    id = fields.Integer()
    points = fields.Integer()
    kind = fields.String()
    state = fields.String()
    shop_id = fields.String()
    cause = fields.Method("_cause")
    reverses_entry_id = fields.Integer(allow_none=True)
    note = fields.String()
    created_at = fields.DateTime()

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

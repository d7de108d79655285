"""Schemas the OpenAPI document needs beyond the ones the routes load with: the answers' shapes, the error
envelope, and inputs some routes read one value at a time (``?shop=``, ``?check=``).

Output schemas here only describe (``jsonify`` writes the bodies); ``tests/api`` holds them to the truth: every
answer schemathesis provokes must conform. A schema whose body has parts other areas extend (the widget panel's
sections, a shop's status) leaves unknown keys open (``EXCLUDE``: no ``additionalProperties: false``).
"""

from __future__ import annotations

from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, fields, validate

from bridge import limits
from bridge.redemption.model import State as RedemptionState
from bridge.referrals.model import State as ReferralState
from bridge.web import schemas


class _Open(Schema):
    """An answer other areas may add keys to."""

    class Meta:
        unknown = EXCLUDE


class AnyObject(Schema):
    """An answer described in prose (README) rather than field by field: a JSON object."""

    class Meta:
        unknown = INCLUDE


def _iso(*, required: bool = False, allow_none: bool = False) -> fields.String:
    """A moment as our views write it (``datetime.isoformat()``: RFC 3339 with an offset)."""
    return fields.String(required=required, allow_none=allow_none, metadata={"format": "date-time"})


# -- errors ----------------------------------------------------------------------------------------------------------
class ErrorDetail(_Open):
    code = fields.String(required=True, metadata={"description": "stable, machine-readable"})
    message = fields.String(required=True, metadata={"description": "for humans; never carries a secret"})
    fields_ = fields.Dict(
        data_key="fields", metadata={"description": "validation_failed: the messages by field (key path)"}
    )


class Error(Schema):
    error = fields.Nested(ErrorDetail, required=True)


# -- small inputs read by hand ---------------------------------------------------------------------------------------
class ReasonQuery(Schema):
    class Meta:
        unknown = RAISE

    reason = fields.String(validate=validate.Length(max=2000))


class LinkQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    shop = fields.String(metadata={"description": "the shop to land on (default: the first shop)"})


# -- members, ledger, inbox --------------------------------------------------------------------------------------------
class MemberList(Schema):
    members = fields.List(fields.Nested(schemas.MemberOut), required=True)
    next_before = fields.Integer(allow_none=True)  # a search (``q``): the next page's ``before``; null: the last


class EntryPage(Schema):
    entries = fields.List(fields.Nested(schemas.EntryOut), required=True)
    next_before = fields.Integer(required=True, allow_none=True)


class Adjusted(Schema):
    entry = fields.Nested(schemas.EntryOut, required=True)
    balance = fields.Nested(schemas.BalanceOut, required=True)


class DeliveryList(Schema):
    deliveries = fields.List(fields.Nested(schemas.DeliveryOut), required=True)


class Replayed(Schema):
    id = fields.Integer(required=True)
    state = fields.String(required=True, validate=validate.OneOf(["pending"]))


class Invited(Schema):
    member_id = fields.Integer(required=True)
    joined_at = _iso(required=True)


class Profile(Schema):
    member_id = fields.Integer(required=True)
    joined_at = _iso(required=True, allow_none=True)
    birthday = fields.Date(required=True, allow_none=True)
    tier = fields.String(required=True, allow_none=True)


class PointEvent(_Open):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    points = fields.Integer(required=True)
    due_at = _iso(allow_none=True)
    details = fields.Dict(allow_none=True)
    created_at = _iso()
    sent_at = _iso(allow_none=True)


class PointEvents(Schema):
    events = fields.List(fields.Nested(PointEvent), required=True)


class VanityCode(Schema):
    member_id = fields.Integer(required=True)
    code = fields.String(required=True)


# -- program and rules -------------------------------------------------------------------------------------------------
class ProgramView(_Open):
    id = fields.String(required=True)
    name = fields.String(required=True)
    membership = fields.String()
    timezone = fields.String()
    hold_days = fields.Integer()
    expiry = fields.Dict()
    ways_to_earn = fields.List(fields.Dict())


class Explained(_Open):
    """What an order earns, rule by rule (``bridge rules explain``'s answer)."""

    shop_id = fields.String(required=True)
    order_id = fields.String(required=True)
    points = fields.Integer(required=True)
    earns_now = fields.Boolean()
    points_state = fields.String()
    hold_days = fields.Integer()
    awards = fields.List(fields.Dict())
    rules = fields.List(fields.Dict())
    program_version = fields.Integer(allow_none=True)


class ProgramDocument(_Open):
    """The ``program:`` section of ``config.yaml`` as JSON (see README, "The program as data"), as stored. (A draft
    sent in is described by the configuration's own ``ProgramSchema``, which checks it: a 422 names the key path.)"""


class VersionAbout(Schema):
    version = fields.Integer(required=True)
    base_version = fields.Integer(required=True, allow_none=True)
    actor = fields.String(required=True)
    reason = fields.String(required=True)
    created_at = _iso(required=True)


class VersionView(VersionAbout):
    program = fields.Nested(ProgramDocument, required=True)


class PublishedView(_Open):
    version = fields.Integer(required=True, allow_none=True, metadata={"description": "null: none published yet"})
    program = fields.Nested(ProgramDocument, required=True)


class VersionList(Schema):
    published = fields.Integer(required=True, allow_none=True)
    versions = fields.List(fields.Nested(VersionAbout), required=True)


class DraftView(Schema):
    id = fields.Integer(required=True)
    base_version = fields.Integer(required=True, allow_none=True)
    published_version = fields.Integer(required=True, allow_none=True)
    actor = fields.String(required=True)
    reason = fields.String(required=True)
    created_at = _iso(required=True)
    program = fields.Nested(ProgramDocument, required=True)


class DraftCreated(DraftView):
    diff = fields.Raw(required=True, metadata={"description": "what the draft changes against its base"})


class Earned(_Open):
    points = fields.Integer(required=True)
    earns_now = fields.Boolean()
    points_state = fields.String()
    hold_days = fields.Integer()
    awards = fields.List(fields.Dict())
    rules = fields.List(fields.Dict())


class PublishedEarned(Earned):
    version = fields.Integer(required=True, allow_none=True)


class DraftEarned(Earned):
    id = fields.Integer(required=True)
    base_version = fields.Integer(required=True, allow_none=True)


class DraftPreview(Schema):
    shop_id = fields.String(required=True)
    order_id = fields.String(required=True)
    published = fields.Nested(PublishedEarned, required=True)
    draft = fields.Nested(DraftEarned, required=True)


class Published(Schema):
    version = fields.Integer(required=True)
    draft_id = fields.Integer(required=True)


class Restored(Schema):
    version = fields.Integer(required=True)
    restored = fields.Integer(required=True)


# -- shops ------------------------------------------------------------------------------------------------------------
class ShopOut(Schema):
    id = fields.String(required=True)
    platform = fields.String(required=True)
    url = fields.String(required=True, allow_none=True)
    currency = fields.String(required=True, allow_none=True)


class ShopList(Schema):
    shops = fields.List(fields.Nested(ShopOut), required=True)


class ShopStatus(_Open):
    shop = fields.String(required=True)
    platform = fields.String(required=True)
    connected = fields.Boolean(required=True)
    keys = fields.Dict(required=True)
    webhooks = fields.List(fields.Dict(), required=True)
    inbox = fields.Dict(required=True)


class _Sourced(Schema):
    source = fields.String(required=True, validate=validate.OneOf(["database", "config"]))


class SecretSet(_Sourced):
    set = fields.Boolean(required=True, metadata={"description": "never the secret itself"})


class OriginsValue(_Sourced):
    value = fields.List(fields.String(), required=True)


class ShopSettingsView(Schema):
    shop_id = fields.String(required=True)
    widget_secret = fields.Nested(SecretSet, required=True)
    allowed_origins = fields.Nested(OriginsValue, required=True)
    updated_by = fields.String(required=True, allow_none=True)
    updated_at = _iso(required=True, allow_none=True)


# -- rewards and redemptions -------------------------------------------------------------------------------------------
class RewardOut(_Open):
    id = fields.String(required=True)
    title = fields.String(required=True)
    type = fields.String(required=True)


class RewardList(Schema):
    rewards = fields.List(fields.Nested(RewardOut), required=True)


class RedemptionOut(_Open):
    """A redemption as the shopper sees it; the admin's view adds the shop, the member, the coupon and more."""

    id = fields.Integer(required=True)
    reward_id = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf([str(s) for s in RedemptionState]))
    code = fields.String(required=True, allow_none=True, metadata={"description": "once the coupon works"})
    points = fields.Integer(required=True)
    expires_at = _iso(required=True)
    created_at = _iso(required=True)
    message = fields.String(required=True)


class RedemptionBody(Schema):
    redemption = fields.Nested(RedemptionOut, required=True)


class RedemptionPage(Schema):
    redemptions = fields.List(fields.Nested(RedemptionOut), required=True)
    next_before = fields.Integer(required=True, allow_none=True)


class RedemptionFailedDetail(ErrorDetail):
    redemption = fields.Nested(RedemptionOut)


class RedemptionFailed(Schema):
    """502 ``redemption_failed``: the shop refused the coupon for good; the points are back."""

    error = fields.Nested(RedemptionFailedDetail, required=True)


class RewardsSection(_Open):
    catalogue = fields.List(fields.Dict(), required=True)
    mine = fields.List(fields.Nested(RedemptionOut), required=True)
    available = fields.Integer(required=True)
    redeemable = fields.Boolean(required=True)
    reason = fields.String(required=True, allow_none=True)


# -- referrals ---------------------------------------------------------------------------------------------------------
class ReferralOut(_Open):
    id = fields.Integer(required=True)
    shop = fields.String(required=True)
    referrer_member_id = fields.Integer(required=True)
    code = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf([str(s) for s in ReferralState]))
    created_at = _iso(required=True)


class ReferralPage(Schema):
    referrals = fields.List(fields.Nested(ReferralOut), required=True)
    next_before = fields.Integer(required=True, allow_none=True)


class ReferralStats(_Open):
    funnel = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_state = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    referred_revenue = fields.String(required=True, metadata={"description": "a decimal amount, as text"})


class Offer(_Open):
    offer = fields.Dict(required=True)


class ClaimedReferral(Schema):
    state = fields.String(required=True)


class ClaimedCoupon(_Open):
    code = fields.String(required=True, allow_none=True)
    expires_at = _iso(required=True, allow_none=True)


class Claimed(Schema):
    referral = fields.Nested(ClaimedReferral, required=True)
    coupon = fields.Nested(ClaimedCoupon, required=True)


class ReferralSummary(_Open):
    code = fields.String(required=True)
    link = fields.String(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    points_earned = fields.Integer(required=True)


# -- the widget --------------------------------------------------------------------------------------------------------
class MemberSection(_Open):
    joined = fields.Boolean(required=True)
    available = fields.Integer(required=True)
    pending = fields.Integer(required=True)
    lifetime = fields.Integer(required=True)
    pending_lots = fields.List(fields.Dict(), required=True)


class ClubSection(_Open):
    name = fields.String(required=True)
    currency = fields.String(required=True, allow_none=True)
    minor_unit = fields.Integer(required=True)
    earn = fields.Dict(required=True)


class Panel(_Open):
    """One key per registered section (``bridge.web.widget_panel``); areas add theirs."""

    club = fields.Nested(ClubSection, required=True)
    member = fields.Nested(MemberSection, required=True)
    history = fields.List(fields.Dict(), required=True)


class ClubRewards(_Open):
    catalogue = fields.List(fields.Dict(), required=True)


class Club(Schema):
    club = fields.Nested(ClubSection, required=True)
    rewards = fields.Nested(ClubRewards, required=True)


# -- webhooks, health --------------------------------------------------------------------------------------------------
class WebhookBody(_Open):
    """The shop's own payload (a WooCommerce order or customer), read as the ``X-WC-Webhook-Topic`` header says."""


class WebhookAnswer(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["accepted", "ignored", "pong"]))
    delivery_id = fields.Integer(validate=validate.Range(1, limits.MAX_ROW_ID))
    topic = fields.String()


class Healthy(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["ok"]))


class Readiness(_Open):
    status = fields.String(required=True, validate=validate.OneOf(["ready", "degraded", "not_ready"]))
    checks = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    detail = fields.Dict(required=True)


# -- admin: reports (issue 18) ---------------------------------------------------------------------------------------
class ReportListItem(Schema):
    name = fields.String(required=True)
    description = fields.String(required=True)


class ReportList(Schema):
    reports = fields.List(fields.Nested(ReportListItem), required=True)


class ReportOut(_Open):
    report = fields.String(required=True)
    from_ = fields.String(data_key="from", required=True, metadata={"format": "date"})
    to = fields.String(required=True, metadata={"format": "date"})
    interval = fields.String(required=True, validate=validate.OneOf(("day", "week", "month")))
    shop = fields.String(required=True, allow_none=True)
    generated_at = _iso(required=True)
    method = fields.String(required=True)
    data = fields.Dict(
        required=True,
        metadata={"description": "the report's figures (docs/reports.md); amounts and rates as decimal text"},
    )
    tables = fields.List(fields.String(), required=True, metadata={"description": "what `table=` may name"})

"""What the OpenAPI document says about each route, by Flask endpoint name: the schemas it loads and answers
with, and the errors it can answer.

Paths, methods and path parameters come from the app's ``url_map`` (``bridge.web.openapi``), so a route cannot
be documented at a path it does not have; ``tests/api`` checks that every API route has an entry here. Errors are
named by their exception class where one exists (its ``status`` and ``code``), so a renamed code follows; errors
every route of a kind shares (authentication, a NUL in the URL, a bad body...) are added by ``openapi.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema

from bridge.config_schema import ProgramSchema
from bridge.connectors import platforms
from bridge.connectors.woocommerce.consts import HEADER_TOPIC
from bridge.errors import (
    BridgeError,
    IdempotencyConflict,
    InboxDeliveryNotFound,
    InsufficientPoints,
    InvalidSignature,
    MalformedPayload,
    PointsOutOfRange,
    TierIsEarned,
    TiersNotConfigured,
    UnknownMember,
    UnknownSegment,
    UnknownShop,
    UnknownTier,
)
from bridge.notifications import service as notification_service
from bridge.program import service as programs
from bridge.redemption import model as redemption
from bridge.referrals import model as referral
from bridge.referrals import service as referrals
from bridge.referrals.model import Reason
from bridge.reports import catalog as reports
from bridge.reports.export import UnknownTable
from bridge.sync.shop_settings import ShopNotServed, ShopSettingsIn
from bridge.web import openapi_schemas as out
from bridge.web import schemas
from bridge.web.events_api import EventIn
from bridge.web.notifications_api import DeliveryQuery, PreferencesIn
from bridge.web.notifications_api import PreviewQuery as NotificationPreviewQuery
from bridge.web.program_api import ReasonIn
from bridge.web.ratelimit import RateLimited
from bridge.web.redemption_api import AdminRedeemIn, CancelIn, RedeemIn
from bridge.web.redemption_api import ListQuery as RedemptionQuery
from bridge.web.referrals_api import ClaimIn, VanityIn
from bridge.web.referrals_api import ListQuery as ReferralQuery
from bridge.web.reports_api import ReportQueryIn
from bridge.web.rules_api import PreviewIn, ProfileIn
from bridge.web.tiers_api import OverrideIn

ErrorSpec = type[BridgeError] | tuple[int, str]


@dataclass(frozen=True)
class Op:
    summary: str
    auth: str | None  # "admin", "shopper", "webhook" or None (public)
    ok: dict[int, Any]  # status → schema (class or instance), or a (media type, description) pair
    errors: tuple[ErrorSpec, ...] = ()
    query: type[Schema] | None = None
    body: Any = None  # schema class or instance
    body_required: bool = True
    idempotency_key: str | None = None  # "required" or "optional"
    description: str = ""
    path: dict[str, dict[str, Any]] = field(default_factory=dict)  # a path parameter's schema, beyond its converter's
    headers: tuple[dict[str, Any], ...] = ()  # header parameters, as OpenAPI writes them
    links: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    """OpenAPI links from every success answer: name → (endpoint, its parameters from this exchange); what a
    client does next (and what schemathesis's stateful run follows)."""


def codes(*specs: ErrorSpec) -> list[tuple[int, str]]:
    return [spec if isinstance(spec, tuple) else (spec.status, spec.code) for spec in specs]


REDEEM_ERRORS: tuple[ErrorSpec, ...] = (
    redemption.IdempotencyKeyRequired,
    MalformedPayload,
    UnknownMember,
    UnknownSegment,
    UnknownShop,
    redemption.RewardNotFound,
    redemption.InvalidPoints,
    redemption.RewardLimitReached,
    redemption.RewardsUnavailable,
    InsufficientPoints,
    IdempotencyConflict,
    redemption.ShopBusy,
    (502, "redemption_failed"),
)
# A claim is refused with the reason's code; a repeated claim of a rejected referral, with the reason it was rejected.
CLAIM_REFUSALS = tuple((referral.ReferralRefused.status, f"referral_{reason}") for reason in Reason)
REDEEMED = {201: out.RedemptionBody, 200: out.RedemptionBody, 202: out.RedemptionBody}
_DRAFT = {"draft_id": "$response.body#/id"}
_VERSION = {"number": "$response.body#/version"}
_REDEMPTION = {"redemption_id": "$response.body#/redemption/id"}
_MEMBER = {"member_id": "$request.path.member_id"}
_FIRST_MEMBER = {"member_id": "$response.body#/members/0/id"}
_FIRST_REDEMPTION = {"redemption_id": "$response.body#/redemptions/0/id"}

OPERATIONS: dict[str, Op] = {
    # -- admin: members, ledger, inbox ------------------------------------------------------------------------------
    "admin_api.list_members": Op(
        "Find members (by e-mail, or by name, id or code with `q`)",
        "admin",
        {200: out.MemberList},
        (UnknownSegment,),
        query=schemas.MemberQuery,
        description="`q` searches as the console does (words of a name, e-mail, member or customer id, referral "
        "code), newest first, in pages continued by `before`. Or a segment's members (`segment`), by member id "
        "(`after`).",
        links={
            "member": ("admin_api.get_member", _FIRST_MEMBER),
            "ledger": ("admin_api.member_ledger", _FIRST_MEMBER),
            "adjust": ("admin_api.adjust", _FIRST_MEMBER),
            "profile": ("rules_admin.admin_update_profile", _FIRST_MEMBER),
            "redeem": ("redemption_admin.admin_redeem", _FIRST_MEMBER),
        },
    ),
    "admin_api.get_member": Op(
        "A member with identities and balance", "admin", {200: schemas.MemberOut}, (UnknownMember,)
    ),
    "admin_api.member_ledger": Op(
        "A member's ledger, newest first (keyset: ?before=<next_before>)",
        "admin",
        {200: out.EntryPage},
        (UnknownMember,),
        query=schemas.PageQuery,
    ),
    "admin_api.adjust": Op(
        "Adjust a member's points (audited)",
        "admin",
        {201: out.Adjusted, 200: out.Adjusted},
        (UnknownMember, IdempotencyConflict, InsufficientPoints, PointsOutOfRange, MalformedPayload),
        body=schemas.AdjustmentIn,
        idempotency_key="optional",
        description="201: a new entry; 200: the same Idempotency-Key again, the entry it made.",
        links={"member": ("admin_api.get_member", _MEMBER), "ledger": ("admin_api.member_ledger", _MEMBER)},
    ),
    "admin_api.list_inbox": Op(
        "Webhook deliveries in the inbox", "admin", {200: out.DeliveryList}, query=schemas.InboxQuery
    ),
    "admin_api.replay_delivery": Op("Apply a delivery again", "admin", {202: out.Replayed}, (InboxDeliveryNotFound,)),
    # -- admin: members' life -----------------------------------------------------------------------------------------
    "rules_admin.admin_invite": Op(
        "Let a member into an invite-only program", "admin", {200: out.Invited}, (UnknownMember,)
    ),
    "rules_admin.admin_profile": Op(
        "What the rules read about a member", "admin", {200: out.Profile}, (UnknownMember,)
    ),
    "rules_admin.admin_update_profile": Op(
        "Set a member's birthday and tier (409 when the program's tiers are earned)",
        "admin",
        {200: out.Profile},
        (UnknownMember, TierIsEarned),
        body=ProfileIn,
    ),
    "rules_admin.admin_point_events": Op(
        "What the point-life jobs recorded for a member", "admin", {200: out.PointEvents}, (UnknownMember,)
    ),
    # -- admin: program and rules --------------------------------------------------------------------------------------
    "rules_admin.admin_program": Op(
        "The program's ways to earn", "admin", {200: out.ProgramView}, query=schemas.ShopQuery
    ),
    "rules_admin.admin_preview": Op(
        "What an order would earn (writes nothing)",
        "admin",
        {200: out.Explained},
        (UnknownShop, MalformedPayload, programs.VersionNotFound),
        body=PreviewIn,
    ),
    "program_api.published": Op("The published program", "admin", {200: out.PublishedView}),
    "program_api.versions": Op(
        "Every published version",
        "admin",
        {200: out.VersionList},
        links={
            "version": ("program_api.get_version", {"number": "$response.body#/published"}),
            "restore": ("program_api.restore", {"number": "$response.body#/versions/0/version"}),
        },
    ),
    "program_api.get_version": Op(
        "One published version", "admin", {200: out.VersionView}, (programs.VersionNotFound,)
    ),
    "program_api.create_draft": Op(
        "Propose a program document (a draft never affects awards)",
        "admin",
        {201: out.DraftCreated},
        (MalformedPayload,),
        query=out.ReasonQuery,
        body=ProgramSchema,  # what the draft is checked with: the configuration's own program schema
        links={
            "draft": ("program_api.get_draft", _DRAFT),
            "preview": ("program_api.preview", _DRAFT),
            "publish": ("program_api.publish", _DRAFT),
        },
    ),
    "program_api.get_draft": Op("A draft", "admin", {200: out.DraftView}, (programs.DraftNotFound,)),
    "program_api.preview": Op(
        "What an order earns under the published version and under the draft",
        "admin",
        {200: out.DraftPreview},
        (programs.DraftNotFound, UnknownShop, MalformedPayload),
        body=PreviewIn(exclude=("program_version",)),
    ),
    "program_api.publish": Op(
        "Publish a draft as the next version",
        "admin",
        {200: out.Published},
        (programs.DraftNotFound, programs.DraftAlreadyPublished, programs.ProgramMoved, MalformedPayload),
        body=ReasonIn,
        body_required=False,
        links={"version": ("program_api.get_version", _VERSION), "restore": ("program_api.restore", _VERSION)},
    ),
    "program_api.restore": Op(
        "Publish an old version again, as a new version",
        "admin",
        {200: out.Restored},
        (programs.VersionNotFound, programs.ProgramMoved, MalformedPayload),
        body=ReasonIn,
        body_required=False,
        links={"version": ("program_api.get_version", _VERSION)},
    ),
    # -- admin: shops --------------------------------------------------------------------------------------------------
    "shops_api.list_shops": Op("The shops this bridge serves", "admin", {200: out.ShopList}),
    "shops_api.status": Op(
        "A shop's connection: keys, webhooks, backlog, reconciliation",
        "admin",
        {200: out.ShopStatus},
        (UnknownShop,),
        query=schemas.StatusQuery,
    ),
    "shops_api.get_settings": Op(
        "A shop's live settings (never the secret)", "admin", {200: out.ShopSettingsView}, (ShopNotServed,)
    ),
    "shops_api.patch_settings": Op(
        "Change a shop's widget secret or allowed origins (null: back to config.yaml's)",
        "admin",
        {200: out.ShopSettingsView},
        (ShopNotServed, MalformedPayload),
        body=ShopSettingsIn,
    ),
    # -- admin: rewards and redemptions --------------------------------------------------------------------------------
    "redemption_admin.admin_rewards": Op("The reward catalogue", "admin", {200: out.RewardList}),
    "redemption_admin.admin_list": Op(
        "Redemptions, newest first",
        "admin",
        {200: out.RedemptionPage},
        query=RedemptionQuery,
        links={
            "redemption": ("redemption_admin.admin_get", _FIRST_REDEMPTION),
            "cancel": ("redemption_admin.admin_cancel", _FIRST_REDEMPTION),
        },
    ),
    "redemption_admin.admin_get": Op(
        "One redemption", "admin", {200: out.RedemptionBody}, (redemption.RedemptionNotFound,)
    ),
    "redemption_admin.admin_redeem": Op(
        "Redeem on a member's behalf (audited)",
        "admin",
        REDEEMED,
        REDEEM_ERRORS,
        body=AdminRedeemIn,
        idempotency_key="required",
        links={
            "redemption": ("redemption_admin.admin_get", _REDEMPTION),
            "cancel": ("redemption_admin.admin_cancel", _REDEMPTION),
        },
        description="201 issued, 202 reserved (the shop is slow: poll the redemption), 200/201 a replayed key.",
    ),
    "redemption_admin.admin_cancel": Op(
        "Cancel an unused (or stuck) redemption; the points come back",
        "admin",
        {200: out.RedemptionBody},
        (redemption.RedemptionNotFound, redemption.RedemptionNotCancellable, redemption.ShopBusy, MalformedPayload),
        body=CancelIn,
        body_required=False,
    ),
    # -- admin: referrals ----------------------------------------------------------------------------------------------
    "referral_admin.list_referrals": Op(
        "Referrals, newest first", "admin", {200: out.ReferralPage}, query=ReferralQuery
    ),
    "referral_admin.referral_stats": Op("The referral funnel", "admin", {200: out.ReferralStats}),
    "referral_admin.approve_vanity": Op(
        "Give a member an approved vanity referral code",
        "admin",
        {200: out.VanityCode},
        (UnknownMember, referrals.VanityCodeTaken, referral.ReferralsDisabled, MalformedPayload),
        body=VanityIn,
    ),
    # -- widget --------------------------------------------------------------------------------------------------------
    "widget_api.panel": Op("The signed-in shopper's whole panel", "shopper", {200: out.Panel}),
    "widget_api.club": Op(
        "What the club offers a shop's guests (no token)",
        None,
        {200: out.Club},
        (UnknownShop,),
        query=schemas.ClubQuery,
    ),
    "redemption_widget.widget_rewards": Op(
        "The catalogue and the shopper's rewards", "shopper", {200: out.RewardsSection}
    ),
    "redemption_widget.widget_redeem": Op(
        "Redeem points for a reward",
        "shopper",
        REDEEMED,
        (*REDEEM_ERRORS, RateLimited),
        body=RedeemIn,
        idempotency_key="required",
        links={
            "redemption": ("redemption_widget.widget_redemption", _REDEMPTION),
            "give_back": ("redemption_widget.widget_cancel", _REDEMPTION),
            "support_view": ("redemption_admin.admin_get", _REDEMPTION),
        },
    ),
    "redemption_widget.widget_redemption": Op(
        "One of the shopper's redemptions", "shopper", {200: out.RedemptionBody}, (redemption.RedemptionNotFound,)
    ),
    "redemption_widget.widget_cancel": Op(
        "Give a reward back",
        "shopper",
        {200: out.RedemptionBody},
        (redemption.RedemptionNotFound, redemption.RedemptionNotCancellable, redemption.ShopBusy),
    ),
    "referral_widget.my_referral": Op(
        "The shopper's referral code, link and counts",
        "shopper",
        {200: out.ReferralSummary},
        (referral.ReferralsDisabled,),
    ),
    "referral_widget.friend_offer": Op(
        "What a friend gets for a referral code (no token)",
        None,
        {200: out.Offer},
        (MalformedPayload, UnknownShop, referral.ReferralsDisabled, (422, f"referral_{Reason.UNKNOWN_CODE}")),
        query=schemas.OfferQuery,
    ),
    "referral_widget.friend_claim": Op(
        "A friend claims a referral: a welcome coupon (no token)",
        None,
        {201: out.Claimed, 200: out.Claimed},
        (
            RateLimited,
            MalformedPayload,
            UnknownShop,
            referral.ReferralsDisabled,
            referral.ClaimInProgress,
            referral.ReferralCheckUnavailable,
            referrals.CouponNotIssued,
            (403, "origin_not_allowed"),
            *CLAIM_REFUSALS,
        ),
        body=ClaimIn,
    ),
    "widget_assets.script": Op(
        "The widget's script",
        None,
        {200: ("text/javascript", "the script"), 304: None},
        ((404, "not_found"),),
    ),
    "widget_assets.messages": Op(
        "The widget's texts in a language (English when there is none closer)",
        None,
        {200: ("application/json", "the messages by key"), 304: None},
        ((404, "not_found"),),
    ),
    # -- webhooks ------------------------------------------------------------------------------------------------------
    "webhooks.receive": Op(
        "A shop's webhook delivery: verified, stored, acknowledged; applied later by a worker",
        "webhook",
        {200: out.WebhookAnswer},
        (UnknownShop, InvalidSignature, MalformedPayload),
        body=out.WebhookBody,
        description="WooCommerce: the X-WC-Webhook-* headers as the shop sends them; the body is signed as is. "
        "An unsigned form-encoded `webhook_id=N` (the shop's probe when a webhook is created) answers `pong`.",
        path={"platform": {"type": "string", "enum": platforms()}},
        headers=(
            {
                "in": "header",
                "name": HEADER_TOPIC,
                "required": False,
                "description": "order.created, order.updated, customer.created...; other topics are ignored (200)",
                "schema": {"type": "string"},
            },
        ),
    ),
    # -- operations and links ------------------------------------------------------------------------------------------
    "health.healthz": Op("The process answers", None, {200: out.Healthy}),
    "health.readyz": Op(
        "Database, Redis and worker; 503 only when the database is down",
        None,
        {200: out.Readiness, 503: out.Readiness},
    ),
    "referral_links.follow_link": Op(
        "A referral link: records a click, redirects to the shop (never an error page)",
        None,
        {302: None},
        (UnknownShop,),
        query=out.LinkQuery,
    ),
    # -- admin: messages to members (issue 17) -------------------------------------------------------------------------
    "notifications_admin.list_deliveries": Op(
        "Notification deliveries, newest first (filter by state)",
        "admin",
        {200: out.AnyObject},
        query=DeliveryQuery,
    ),
    "notifications_admin.replay_delivery": Op(
        "Send a dead or skipped delivery again",
        "admin",
        {200: out.AnyObject},
        (notification_service.DeliveryNotFound, notification_service.DeliveryInFlight),
    ),
    "notifications_admin.preview": Op(
        "A member's message for an event, rendered (writes nothing)",
        "admin",
        {200: out.AnyObject},
        (UnknownMember,),
        query=NotificationPreviewQuery,
    ),
    "notifications_admin.put_preferences": Op(
        "A member's phone, language and opt-outs, as the owner sets them",
        "admin",
        {200: out.AnyObject},
        (UnknownMember, MalformedPayload),
        body=PreferencesIn,
    ),
    # -- admin: privacy and custom events (issue 19) -----------------------------------------------------------------
    "privacy_api.export": Op("Everything held about a member (GDPR)", "admin", {200: out.AnyObject}, (UnknownMember,)),
    "privacy_api.erase": Op(
        "Erase a member: pseudonymised, the ledger kept (idempotent: 201, then 200)",
        "admin",
        {201: out.AnyObject, 200: out.AnyObject},
        (UnknownMember,),
    ),
    "events_api.post_event": Op(
        "A custom event (a review, a visit) for a member; awarded by explicit points or the program's event rules",
        "admin",
        {201: out.AnyObject, 200: out.AnyObject},
        (UnknownShop, UnknownMember, IdempotencyConflict, MalformedPayload, PointsOutOfRange),
        body=EventIn,
    ),
    # -- admin: tiers and segments (issue 16) ------------------------------------------------------------------------
    "tiers_admin.member_tiers": Op(
        "A member's tier history, newest first",
        "admin",
        {200: out.AnyObject},
        (UnknownMember, TiersNotConfigured),
        query=schemas.PageQuery,
    ),
    "tiers_admin.set_override": Op(
        "Set a member's tier until a date (audited)",
        "admin",
        {200: out.AnyObject},
        (UnknownMember, UnknownTier, TiersNotConfigured, MalformedPayload),
        body=OverrideIn,
    ),
    "tiers_admin.end_override": Op(
        "End a member's tier override (the earned tier returns)",
        "admin",
        {200: out.AnyObject},
        (UnknownMember, TiersNotConfigured),
    ),
    "segments_admin.list_segments": Op(
        "The program's segments with their member counts", "admin", {200: out.AnyObject}
    ),
    # -- admin: reports (issue 18) -------------------------------------------------------------------------------------
    "reports_api.list_reports": Op("The reports, each with its definition in a line", "admin", {200: out.ReportList}),
    "reports_api.show_report": Op(
        "One report, as JSON or as a CSV file",
        "admin",
        {200: [out.ReportOut, ("text/csv", "one of the report's tables as CSV (format=csv): UTF-8 with BOM")]},
        (reports.UnknownReport, reports.InvalidReportQuery, UnknownShop, UnknownTable),
        query=ReportQueryIn,
        description="Days are the program's local days, both included (default: the last 30). docs/reports.md "
        "defines every figure.",
        path={"name": {"type": "string", "enum": list(reports.REPORTS)}},
    ),
}

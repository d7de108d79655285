"""The whole configuration as one declarative marshmallow schema: every section, key, type, range and default.

The schema is the one source for validating ``config.yaml`` (+ ``BRIDGE_*`` overrides, see ``bridge.config``), for
dumping settings back to the same shape, and for the README's configuration reference
(``python -m bridge.config_schema`` prints it; a test keeps the README equal to it). Every level refuses keys it
does not know (marshmallow's ``unknown=RAISE``); ``config_error`` turns marshmallow's nested messages into one
``ConfigError`` naming the dotted key (``program.earn.signup_point``) and the closest known key.

It lives beside ``bridge/config.py`` rather than in a ``bridge/program/`` package because it describes the whole
configuration (storage, Redis, shops, sync ...), not only the program; the program part is ``ProgramSchema``.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import fields as dataclass_fields
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import (
    INCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    missing,
    post_load,
    pre_dump,
    pre_load,
    validates_schema,
)

from bridge.config import (
    FRIEND_REWARD_TYPES,
    ORDER_STATUSES,
    PLATFORMS,
    REWARD_ID_PATTERN,
    REWARD_TYPES,
    ROUNDING_MODES,
    SHOP_ID_PATTERN,
    EarnSettings,
    FriendReward,
    InboxSettings,
    MetricsSettings,
    ProgramSettings,
    RedemptionSettings,
    ReferralLinkSettings,
    ReferralSettings,
    RewardLimit,
    RewardSettings,
    Settings,
    ShopSettings,
    SyncSettings,
    currency_minor_unit,
)
from bridge.errors import ConfigError
from bridge.notifications.settings import (
    CALENDARS,
    CHANNELS,
    EMAIL_SECURITY,
    LOCALES,
    SMS_PROVIDERS,
    Campaign,
    EmailSettings,
    EventSettings,
    NotificationSettings,
    Occasion,
    QuietHours,
    SmsSettings,
    WebhookEndpoint,
)
from bridge.rules.campaign import WEEKDAYS
from bridge.rules.caps import PERIODS
from bridge.rules.config import (
    BUILT_IN_TYPES,
    EXPIRY_MODES,
    RELEASE_MODES,
    SEGMENT_TYPES,
    EarningSettings,
    ExpirySettings,
    RuleSpec,
    build_rule_set,
)
from bridge.rules.membership import POLICIES, Membership
from bridge.segments.settings import RFM_SEGMENTS, CustomSegment, SegmentSettings
from bridge.texts import LocalText
from bridge.tiers.settings import (
    DOWNGRADES,
    METRICS,
    PERK_PERIODS,
    PERK_TYPES,
    WINDOW_KINDS,
    Perk,
    TierLevel,
    TierSettings,
)

TEN_YEARS_SECONDS = 10 * 366 * 86400


# --- fields: the coercions the bridge has always accepted, with messages that say what is expected ---------------
# (marshmallow's own Integer would truncate 2.5 to 2 and its String refuses a YAML number such as a title "2026";
# these keep what config.yaml files written for earlier versions mean, and say "must be ..." like before.)
class Text(fields.Field[str]):
    """A string (a YAML number is read as its text); stripped; empty only with ``allow_empty``."""

    default_error_messages = {"null": "must be a string", "invalid": "must be a string", "empty": "must not be empty"}

    def __init__(self, *, allow_empty: bool = False, case: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.allow_empty = allow_empty
        self.case = case  # "lower" | "upper" | ""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise self.make_error("invalid")
        text = str(value).strip()
        text = text.lower() if self.case == "lower" else text.upper() if self.case == "upper" else text
        if not text and not self.allow_empty:
            raise self.make_error("empty")
        return text

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class ShopperText(Text):
    """A text shoppers read: a plain string, or one per locale (``{en: "Free shipping", fa: "ارسال رایگان"}``)."""

    LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
    MAX_LOCALES = 20
    MAX_LENGTH = 1000

    default_error_messages = {
        **Text.default_error_messages,
        "invalid": "must be a string, or a mapping of locales to strings ({{en: ..., fa: ...}})",
        "locale": "must be a locale such as en, fa or pt-BR",
        "long": f"must be at most {MAX_LENGTH} characters",
        "many": f"at most {MAX_LOCALES} locales",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        if not isinstance(value, Mapping):
            return LocalText(self._one(value, attr, data, **kwargs))
        if not value:
            raise self.make_error("empty")
        if len(value) > self.MAX_LOCALES:
            raise self.make_error("many")
        texts: dict[str, str] = {}
        for locale, text in value.items():
            if not isinstance(locale, str) or not self.LOCALE.match(locale):
                raise ValidationError({str(locale): [self.error_messages["locale"]]})
            try:
                texts[locale] = self._one(text, attr, data, **kwargs)
            except ValidationError as err:
                raise ValidationError({locale: err.messages}) from err
        return LocalText(texts)

    def _one(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > self.MAX_LENGTH:
            raise self.make_error("long")
        return text

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value.document() if isinstance(value, LocalText) else value


class Integer(fields.Field[int]):
    """A whole number (``strict``: an int; else also its text, as environment overrides may give), >= ``minimum``."""

    default_error_messages = {"null": "must be an integer", "invalid": "must be an integer"}

    def __init__(self, *, minimum: int | None = None, strict: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.minimum = minimum
        self.strict = strict

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str) or (self.strict and not isinstance(value, int)):
            raise self.make_error("invalid")
        try:
            number = int(value)
        except ValueError as exc:
            raise self.make_error("invalid") from exc
        if self.minimum is not None and number < self.minimum:
            raise ValidationError(f"must be at least {self.minimum}")
        return number

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class Number(fields.Field[Decimal]):
    """A finite decimal number (int, float or text), >= ``minimum`` when given; ``as_float`` gives a float."""

    default_error_messages = {"null": "must be a number", "invalid": "must be a number"}

    def __init__(
        self, *, minimum: Decimal | int | None = 0, above: bool = False, as_float: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.minimum = None if minimum is None else Decimal(minimum)
        self.above = above  # strictly more than minimum
        self.as_float = as_float

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise self.make_error("invalid")
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise self.make_error("invalid") from exc
        if not number.is_finite():
            raise ValidationError("must be a finite number" + (", zero or more" if self.minimum == 0 else ""))
        if self.minimum is not None and (number <= self.minimum if self.above else number < self.minimum):
            if self.above:
                raise ValidationError(f"must be more than {self.minimum}")
            raise ValidationError(
                "must be a finite number, zero or more" if self.minimum == 0 else f"must be at least {self.minimum}"
            )
        return float(number) if self.as_float else number

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class Flag(fields.Field[bool]):
    """``true`` or ``false``; not what merely looks like one ("yes" is a typo more often than a choice)."""

    default_error_messages = {"null": "must be true or false", "invalid": "must be true or false"}

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class Choice(Text):
    """One of ``choices`` (a list field of choices names the list, not the item, as it always has)."""

    def __init__(self, choices: tuple[str, ...], *, many: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.choices = choices
        self.many = many

    def _one(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text not in self.choices:
            raise ValidationError(f"must be one of {', '.join(self.choices)}")
        return text

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        if not self.many:
            return self._one(value, attr, data, **kwargs)
        if not isinstance(value, list) or not value:
            raise ValidationError("must be a non-empty list of " + ", ".join(self.choices))
        return tuple(self._one(item, attr, data, **kwargs) for item in value)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return list(value) if self.many else value


class Items(fields.List[Any]):
    """A list, made a tuple; with ``unique``, that attribute of the items must differ (``shops[1].id: duplicate``)."""

    default_error_messages = {"invalid": "must be a list", "null": "must be a list"}

    def __init__(self, inner: fields.Field[Any] | type[Schema], *, unique: str = "", noun: str = "", **kwargs: Any):
        super().__init__(fields.Nested(inner) if isinstance(inner, type) else inner, **kwargs)
        self.unique = unique
        self.noun = noun

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        items = tuple(super()._deserialize(value, attr, data, **kwargs))
        if self.unique:
            seen: set[str] = set()
            for i, item in enumerate(items):
                key = getattr(item, self.unique)
                if key in seen:
                    raise ValidationError({i: {self.unique: [f"duplicate {self.noun} id {key!r}"]}})
                seen.add(key)
        return items


def _url(value: str, what: str = "must be an absolute http:// or https:// URL") -> None:
    if value and not value.startswith(("http://", "https://")):
        raise ValidationError(what)


def _min_length(n: int, why: str = "") -> Callable[[str], None]:
    def check(value: str) -> None:
        if value and len(value) < n:
            raise ValidationError(f"must be at least {n} characters long{why}")

    return check


def _pattern(regex: re.Pattern[str], message: str) -> Callable[[str], None]:
    def check(value: str) -> None:
        if not regex.match(value):
            raise ValidationError(message)

    return check


def _described(description: str, **kwargs: Any) -> dict[str, Any]:
    return {"metadata": {"description": description}, **kwargs}


def _d(description: str, default: Any = missing, **kwargs: Any) -> dict[str, Any]:
    """Field options: the README's description and the load default (``missing``: required)."""
    if default is missing:
        return _described(description, required=True, **kwargs)
    return _described(description, load_default=default, **kwargs)


# --- sections ----------------------------------------------------------------------------------------------------
class Section(Schema):
    """Refuses unknown keys; an absent (or ``null``) sub-section is read as an empty one, i.e. all its defaults.
    A section whose keys are exactly its settings dataclass's fields names it in ``builds``; the others override
    ``_settings``."""

    builds: ClassVar[type | None] = None

    class Meta:
        unknown = RAISE

    @post_load
    def _settings(self, data: dict[str, Any], **kwargs: Any) -> Any:
        return data if self.builds is None else self.builds(**data)

    @pre_load
    def _defaults(self, data: Any, **kwargs: Any) -> Any:
        """Absent keys take their declared default, which is then read like a given value (so a default is typed
        exactly as a value from the file would be); ``null`` does too where a key accepts it."""
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        for name, field in self.load_fields.items():
            key = field.data_key or name
            if isinstance(field, fields.Nested) and not field.allow_none:
                default: Any = {}
            elif field.load_default is missing:
                continue
            else:
                default = field.load_default
            if data.get(key) is None and (key not in data or isinstance(default, dict) or field.allow_none):
                data[key] = copy.deepcopy(default)
        return data


class AdminSchema(Section):
    api_keys = Items(
        Text(validate=_min_length(16)),
        **_d("Bearer keys for `/admin/v1` (each at least 16 characters)", [], allow_none=True),
    )


class WebhooksSchema(Section):
    max_body_bytes = Integer(minimum=1024, **_d("largest webhook body accepted", 1024 * 1024))


class InboxSchema(Section):
    builds = InboxSettings
    batch_size = Integer(minimum=1, **_d("deliveries applied per transaction by a drain job", 100))
    max_attempts = Integer(minimum=1, **_d("then the delivery is parked as failed", 8))
    retry_base_seconds = Integer(minimum=0, **_d("backoff: 5s, 10s, 20s, ... capped at `retry_max_seconds`", 5))
    retry_max_seconds = Integer(minimum=0, **_d("longest wait between two attempts", 3600))
    sweep_interval_seconds = Number(as_float=True, **_d("how often workers look for deliveries no job picks up", 5))


_CLOCK_RANGE = "must be a number of seconds within ten years of 0"


def _within_ten_years(value: float) -> None:
    # ten years either way is plenty for tests and rehearsals, and keeps datetime arithmetic in range
    if not abs(value) <= TEN_YEARS_SECONDS:
        raise ValidationError(_CLOCK_RANGE)


class ClockSchema(Section):
    offset_seconds = fields.Float(
        validate=_within_ten_years,
        error_messages={"invalid": _CLOCK_RANGE, "null": _CLOCK_RANGE, "special": _CLOCK_RANGE},
        **_d("the bridge's clock is the system clock shifted by this much (rehearsals, tests)", 0),
    )

    @pre_load
    def _numbers_only(self, data: Any, **kwargs: Any) -> Any:
        value = data.get("offset_seconds") if isinstance(data, Mapping) else None
        if isinstance(value, bool | str):
            raise ValidationError({"offset_seconds": [_CLOCK_RANGE]})
        return data


class SyncSchema(Section):
    builds = SyncSettings
    reconcile_interval_seconds = Integer(minimum=0, **_d("reconcile orders the deliveries missed; 0: off", 600))
    reconcile_overlap_seconds = Integer(minimum=0, **_d("each window starts this long before the last one", 300))
    reconcile_initial_lookback_hours = Integer(
        minimum=0, **_d("the first window of a shop configured by hand (a connected one: since connecting)", 24)
    )
    webhook_health_interval_seconds = Integer(
        minimum=0, **_d("re-activate or re-create the bridge's webhooks in the shop; 0: off", 300)
    )
    backfill_requests_per_second = Number(as_float=True, **_d("`bridge backfill`'s pace (0: unbounded)", 5))
    shop_timeout_seconds = Number(as_float=True, **_d("per REST call of connect, status, reconcile, backfill", 20))


def _network(value: str) -> None:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise ValidationError("must be an IP network such as 10.0.0.0/8 or an address") from exc


class MetricsSchema(Section):
    builds = MetricsSettings
    enabled = Flag(**_d("serve Prometheus metrics at `GET /metrics`", True))
    allow = Items(
        Text(validate=_network),
        **_d(
            "client networks that may read `/metrics` (the client's address as `trusted_proxies` reads it; a "
            "request forwarded by an untrusted proxy is refused)",
            ["127.0.0.1/32", "::1/128"],
        ),
    )


# --- program: earning ----------------------------------------------------------------------------------------------
class MembershipSchema(Section):
    builds = Membership
    policy = Choice(
        POLICIES, **_d("`open`, `closed` (a first order of `qualifying_total` lets in) or `invite_only`", "open")
    )
    qualifying_total = Number(minimum=None, **_d("the order total that lets a shopper in (closed)", "0"))


class ExpirySchema(Section):
    builds = ExpirySettings
    mode = Choice(
        EXPIRY_MODES, **_d("`none`, `lot` (each lot `months` after it became available) or `inactivity`", "none")
    )
    months = Integer(minimum=1, strict=True, **_d("how long points live", 12))
    warn_days = Integer(minimum=0, strict=True, **_d("an `expiring_soon` event is recorded this many days before", 30))
    interval_seconds = Number(as_float=True, **_d("how often workers expire what is due", 86400))


_COMMON_RULE_KEYS = ("id", "type", "name", "description", "enabled")


class RuleSchema(Section):
    """One entry of ``program.earn.rules``: the keys every rule has; each type adds its own (``_RULE_TYPES``)."""

    id = Text(error_messages={"invalid": "must be a non-empty string"}, **_d("unique; ledger entries name it"))
    type = Text(**_d(", ".join(f"`{t}`" for t in BUILT_IN_TYPES) + " or a plug-in's entry point name"))
    name = ShopperText(allow_empty=True, **_d("what members see (a string, or one per locale)", "", allow_none=True))
    description = ShopperText(
        allow_empty=True, **_d("a longer explanation for members (per locale too)", "", allow_none=True)
    )
    enabled = Flag(**_d("a disabled rule never awards", True))

    @post_load
    def _spec(self, data: dict[str, Any], **kwargs: Any) -> RuleSpec:
        return RuleSpec(
            id=data["id"],
            type=data["type"],
            name=data["name"] or LocalText(""),
            description=data["description"] or LocalText(""),
            enabled=data["enabled"],
            options={k: v for k, v in data.items() if k not in _COMMON_RULE_KEYS},
        )


class Moment(fields.Field[datetime]):
    """An ISO date-time or date (or a YAML timestamp); one without an offset is read in the program's zone later."""

    default_error_messages = {"invalid": "must be an ISO date-time such as 2026-12-24T18:00"}

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            # naive on purpose: midnight in the program's zone, applied by bridge.rules.config
            return datetime(value.year, value.month, value.day)  # noqa: DTZ001
        try:
            return datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise self.make_error("invalid") from exc

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class Weekdays(fields.Field[tuple[str, ...]]):
    """Days of the week by name (``saturday`` and ``Sat`` both read as ``sat``)."""

    default_error_messages = {"invalid": f"must be a list of {', '.join(WEEKDAYS)}"}

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        if not isinstance(value, list | tuple) or any(str(day).lower()[:3] not in WEEKDAYS for day in value):
            raise self.make_error("invalid")
        return tuple(str(day).lower()[:3] for day in value)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return list(value)


def _strings(description: str) -> Items:
    return Items(Text(), **_d(description, []))


def _segments() -> Items:
    """``segments: [at_risk]`` (issue 16): the rule is only for members in one of these (ids of `program.segments`)."""
    return _strings("only for members in one of these segments (`program.segments` ids); empty: every member")


def _bonus_points(description: str = "points awarded") -> Integer:
    return Integer(minimum=0, strict=True, **_d(description))


class PerAmountRuleSchema(RuleSchema):
    points = Number(**_d("points per `per` of the amount", 1))
    per = Number(above=True, **_d("the amount `points` are given for", 1))
    rounding = Choice(ROUNDING_MODES, **_d("`null`: `program.earn.rounding`", None, allow_none=True))
    minimum_amount = Number(**_d("smaller orders earn nothing by this rule", 0))
    include_tax = Flag(**_d("count tax in the amount", False))
    include_shipping = Flag(**_d("count shipping in the amount", False))
    include_fees = Flag(**_d("count fees in the amount", False))
    before_discounts = Flag(**_d("count line totals before discounts", False))
    segments = _segments()


class MultiplierRuleSchema(RuleSchema):
    multiplier = Number(**_d("points of the matching lines are multiplied by this"))
    products = _strings("product or variation ids")
    skus = _strings("SKUs")
    categories = _strings("category slugs or ids")
    segments = _segments()


class ExclusionRuleSchema(RuleSchema):
    products = _strings("product or variation ids that never earn")
    skus = _strings("SKUs that never earn")
    categories = _strings("category slugs or ids that never earn")
    segments = _segments()


class FirstOrderRuleSchema(RuleSchema):
    points = _bonus_points("a bonus on a member's first order")
    minimum_amount = Number(**_d("smaller first orders get no bonus", 0))
    segments = _segments()


class NthOrderRuleSchema(RuleSchema):
    every = Integer(minimum=1, strict=True, **_d("a bonus on every n-th order", None, allow_none=True))
    nth = Integer(minimum=1, strict=True, **_d("a bonus on exactly the n-th order", None, allow_none=True))
    within_days = Integer(
        minimum=1, strict=True, **_d("... within this many days of the previous", None, allow_none=True)
    )
    points = _bonus_points()
    segments = _segments()


class SignupRuleSchema(RuleSchema):
    points = _bonus_points("once per member, on sign-up")


class BirthdayRuleSchema(RuleSchema):
    points = _bonus_points("once a year, on the member's birthday")
    segments = _segments()


class CampaignRuleSchema(RuleSchema):
    multiplier = Number(**_d("points of orders in the window are multiplied by this", 1))
    points = Integer(minimum=0, strict=True, **_d("a bonus per order in the window", 0))
    starts = Moment(**_d("window start (in `program.timezone` without an offset)", None, allow_none=True))
    ends = Moment(**_d("window end", None, allow_none=True))
    weekdays = Weekdays(**_d("only on these days (`sat`, `sun` ...)", []))
    segments = _segments()


class CapRuleSchema(RuleSchema):
    period = Choice(PERIODS, **_d("`day`, `week`, `month` or `year`"))
    max_points = Integer(minimum=0, strict=True, **_d("most points per member and period"))
    rules = _strings("ids of the rules capped (empty: every order award)")


class CustomRuleSchema(RuleSchema):
    entry_point = Text(**_d("the plug-in's name in the `bridge.rules` entry point group"))
    options = fields.Raw(**_described("handed to the plug-in as they are"))


EVENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,63}$")
"""A custom event's type (``review``, ``social.follow``): lower-case, at most 64 characters (issue 19)."""


class EventRuleSchema(RuleSchema):
    event = Text(
        validate=_pattern(EVENT_TYPE, "must be lower-case letters, digits, `_.:-`, at most 64 characters"),
        **_d("the custom event type it awards on (`POST /admin/v1/events`)"),
    )
    points = Integer(minimum=1, strict=True, **_d("points per event"))
    max_per_day = Integer(
        minimum=1, strict=True, **_d("most awards per member and day (`program.timezone`)", None, allow_none=True)
    )
    segments = _segments()


# One schema per built-in rule type: the common keys plus exactly the options that type reads.
RULE_TYPES: dict[str, type[RuleSchema]] = {
    "per_amount": PerAmountRuleSchema,
    "multiplier": MultiplierRuleSchema,
    "exclusion": ExclusionRuleSchema,
    "first_order": FirstOrderRuleSchema,
    "nth_order": NthOrderRuleSchema,
    "signup": SignupRuleSchema,
    "birthday": BirthdayRuleSchema,
    "campaign": CampaignRuleSchema,
    "cap": CapRuleSchema,
    "custom": CustomRuleSchema,
    "event": EventRuleSchema,  # issue 19
}


class _PluginRuleSchema(RuleSchema):
    """A plug-in's rule type reads options of its own choosing."""

    class Meta:
        unknown = INCLUDE


class Rule(fields.Field[RuleSpec]):
    """A rule, checked by the schema of its ``type``."""

    default_error_messages = {"invalid": "must be a mapping", "null": "must be a mapping"}

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> RuleSpec:
        if not isinstance(value, Mapping):
            raise self.make_error("invalid")
        schema = RULE_TYPES.get(str(value.get("type")), _PluginRuleSchema)()
        try:
            spec: RuleSpec = schema.load(value)
        except ValidationError as err:
            raise ValidationError(_name_unknown_keys(schema, err.messages)) from err
        return spec

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        spec: RuleSpec = value
        return {
            "id": spec.id,
            "type": spec.type,
            "name": _text_document(spec.name),
            "description": _text_document(spec.description),
            "enabled": spec.enabled,
            **spec.options,
        }


def _text_document(text: str) -> str | dict[str, str]:
    return text.document() if isinstance(text, LocalText) else text


class Rules(Items):
    """``program.earn.rules``: ids unique; a bad option value names its rule by id (``rules[weekend].points``),
    as the rule's own checks do, while a bad key or id names it by position."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        try:
            specs: tuple[RuleSpec, ...] = super()._deserialize(value, attr, data, **kwargs)
        except ValidationError as err:
            raise ValidationError(_by_rule_id(value, err.messages)) from err
        seen: set[str] = set()
        for i, spec in enumerate(specs):
            if spec.id in seen or (spec.id in ("per_amount", "signup") and spec.type != spec.id):
                raise ValidationError({i: {"id": [f"duplicate or reserved rule id {spec.id!r}"]}})
            seen.add(spec.id)
        return specs


def _by_rule_id(rules: Any, messages: Any) -> Any:
    if not isinstance(messages, dict):
        return messages
    renamed = {}
    for index, errors in messages.items():
        rule = rules[index] if isinstance(index, int) and isinstance(rules, list) else None
        rule_id = rule.get("id") if isinstance(rule, Mapping) else None
        options_only = isinstance(errors, dict) and not any(
            key in _COMMON_RULE_KEYS or any(str(reason).startswith("unknown key") for reason in reasons)
            for key, reasons in errors.items()
        )
        renamed[rule_id if isinstance(rule_id, str) and rule_id and options_only else index] = errors
    return renamed


class EarnSchema(Section):
    points_per_currency_unit = Number(**_d("on line-item totals after discounts, without tax and shipping", "1"))
    signup_points = Integer(minimum=0, **_d("once per member, on `customer.created`", 0))
    paid_statuses = Choice(
        ORDER_STATUSES, many=True, **_d("statuses in which an order earns", ["processing", "completed"])
    )
    rounding = Choice(ROUNDING_MODES, **_d("`down`, `nearest` or `up`, applied once per award", "down"))
    release = Choice(
        RELEASE_MODES, **_d("`after_hold`: pending until completed + `hold_days`; `on_payment`: at once", "after_hold")
    )
    hold_days = Integer(minimum=0, strict=True, **_d("days order points stay pending after completion", 14))
    release_interval_seconds = Number(as_float=True, **_d("how often workers release what is due", 3600))
    birthday_interval_seconds = Number(as_float=True, **_d("how often workers look for today's birthdays", 3600))
    expiry = fields.Nested(ExpirySchema, **_described("points expiry"))
    tier_multipliers = fields.Dict(
        keys=Text(), values=Number(), **_d("`{tier: multiplier}` on amount rules", {}, allow_none=True)
    )
    rules = Rules(Rule(), **_d("earning rules: see [Earning rules](#earning-rules)", [], allow_none=True))

    @pre_dump
    def _flat(self, program: ProgramSettings, **kwargs: Any) -> dict[str, Any]:
        earn, earning = program.earn, program.earning
        return {
            **{f.name: getattr(earn, f.name) for f in dataclass_fields(earn)},
            **{f.name: getattr(earning, f.name) for f in dataclass_fields(earning)},
        }


# --- program: rewards, redemption, referrals ----------------------------------------------------------------------
class LimitSchema(Section):
    builds = RewardLimit
    count = Integer(minimum=1, **_d("redemptions of this reward per member ..."))
    period_days = Integer(minimum=1, **_d("... within this many days"))


_ID_LIST = {"load_default": (), "allow_none": True}


class RewardSchema(Section):
    id = Text(validate=_pattern(REWARD_ID_PATTERN, "must be lower-case letters, digits, '-' or '_'"), **_d("unique"))
    title = ShopperText(**_d("what members see (a string, or one per locale: `{en: ..., fa: ...}`)"))
    type = Choice(REWARD_TYPES, **_d("`fixed_cart`, `percent`, `free_shipping` or `variable` (any multiple of `step`)"))
    description = ShopperText(allow_empty=True, **_d("a longer explanation (per locale too)", ""))
    points = Integer(minimum=1, **_d("its price (not `variable`)", None, allow_none=True))
    value = Number(above=True, **_d("amount or percentage off (`fixed_cart`, `percent`)", None, allow_none=True))
    step = Integer(minimum=1, **_d("`variable`: points are spent in multiples of this", None, allow_none=True))
    min_points = Integer(minimum=1, **_d("`variable`: fewest points spent (default: `step`)", None, allow_none=True))
    max_points = Integer(minimum=1, **_d("`variable`: most points spent", None, allow_none=True))
    currency_per_point = Number(above=True, **_d("`variable`: what a point is worth", None, allow_none=True))
    minimum_amount = Number(**_d("smallest cart the coupon applies to", 0))
    validity_days = Integer(minimum=1, **_d("the coupon expires this many days after it is issued", 30))
    individual_use = Flag(**_d("the coupon cannot be combined with others", True))
    product_ids = Items(Integer(minimum=1), **_described("products the coupon is limited to", **_ID_LIST))
    excluded_product_ids = Items(Integer(minimum=1), **_described("products it never applies to", **_ID_LIST))
    product_categories = Items(Integer(minimum=1), **_described("categories it is limited to", **_ID_LIST))
    excluded_product_categories = Items(Integer(minimum=1), **_described("categories it excludes", **_ID_LIST))
    limit = fields.Nested(LimitSchema, **_d("`{count, period_days}` per member", None, allow_none=True))
    enabled = Flag(**_d("a disabled reward is not offered", True))
    tiers = Items(Text(), **_described("only members of these tiers may redeem it (empty: everyone)", **_ID_LIST))

    @validates_schema
    def _by_type(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["type"] == "variable":
            step = _needed(data, "step")
            low = data["min_points"] if data["min_points"] is not None else step
            high = _needed(data, "max_points")
            if high < low:
                raise ValidationError(f"must be at least {low}", "max_points")
            if low % step or high % step:
                raise ValidationError("min_points and max_points must be multiples of step", "min_points")
            _needed(data, "currency_per_point")
            return
        _needed(data, "points")
        if data["type"] != "free_shipping":
            value = _needed(data, "value")
            if data["type"] == "percent" and value > 100:
                raise ValidationError("must be more than zero (and at most 100 for percent)", "value")

    @post_load
    def _settings(self, data: dict[str, Any], **kwargs: Any) -> RewardSettings:
        kind = data["type"]
        variable = {"step", "min_points", "max_points", "currency_per_point"}
        values = {k: v for k, v in data.items() if v is not None and k not in variable | {"points", "value"}}
        if kind == "variable":
            data["min_points"] = data["min_points"] or data["step"]
            values.update({k: data[k] for k in variable})
        else:
            values["points"] = data["points"]
            if kind != "free_shipping":
                values["value"] = data["value"]
        return RewardSettings(**values)

    @pre_dump
    def _own_keys(self, reward: RewardSettings, **kwargs: Any) -> dict[str, Any]:
        data = {f.name: getattr(reward, f.name) for f in dataclass_fields(reward)}
        unused = (
            {"points", "value"} if reward.is_variable else {"step", "min_points", "max_points", "currency_per_point"}
        )
        if reward.type == "free_shipping":
            unused.add("value")
        return {k: v for k, v in data.items() if k not in unused and v is not None}


def _needed(data: dict[str, Any], name: str) -> Any:
    if data.get(name) is None:
        raise ValidationError("is required for this type", name)
    return data[name]


def _seconds(description: str, default: int) -> Number:
    return Number(as_float=True, **_d(description, default))


class RedemptionSchema(Section):
    code_prefix = Text(
        allow_empty=True,
        case="lower",
        validate=_pattern(re.compile(r"[a-z0-9-]{0,16}$"), "at most 16 lower-case letters, digits or '-'"),
        **_d("prepended to coupon codes", ""),
    )
    code_length = Integer(minimum=10, **_d("random characters after the prefix", 12))
    inline_wait_seconds = _seconds("how long a redeem request waits for the shop before answering 202", 3)
    shop_timeout_seconds = _seconds("timeout of one call to the shop's REST API", 5)
    retry_base_seconds = _seconds("background retries: 5s, 10s, 20s, ... capped at `retry_max_seconds`", 5)
    retry_max_seconds = _seconds("longest wait between two retries", 600)
    give_up_after_seconds = _seconds("no coupon this long after the redeem: the points go back", 86400)
    recover_after_seconds = _seconds("a reserved redemption this old, with nobody working on it, is finished", 30)
    recover_interval_seconds = _seconds("how often workers look for such redemptions (0: never)", 15)
    expire_interval_seconds = _seconds("how often unused, expired coupons are deleted in the shop (0: never)", 86400)
    return_points_on_expiry = Flag(**_d("give the points back when a coupon expires unused", True))
    refund_returns_points = Flag(**_d("give spent points back, pro rata, when the order is refunded", False))
    rate_limit_per_minute = Integer(minimum=1, **_d("redeem requests per shopper per minute (5x per IP address)", 10))

    @post_load
    def _settings(self, data: dict[str, Any], **kwargs: Any) -> RedemptionSettings:
        data["shop_timeout_seconds"] = max(data["shop_timeout_seconds"], 0.1)
        return RedemptionSettings(**data)


_FRIEND = FriendReward()


class FriendRewardSchema(Section):
    type = Choice(FRIEND_REWARD_TYPES, **_d("`fixed_cart`, `percent` or `free_shipping`", _FRIEND.type))
    value = Number(**_d("amount or percentage off; `null`: 10 (nothing for `free_shipping`)", None, allow_none=True))
    minimum_amount = Number(**_d("smallest cart the coupon applies to", "0"))
    validity_days = Integer(minimum=1, **_d("the coupon expires this many days after it is issued", 30))
    individual_use = Flag(**_d("the coupon cannot be combined with others", True))
    title = ShopperText(**_d("what the friend sees (per locale too)", _FRIEND.title))
    description = ShopperText(allow_empty=True, **_d("a longer explanation (per locale too)", _FRIEND.description))

    @post_load
    def _settings(self, data: dict[str, Any], **kwargs: Any) -> FriendReward:
        if data["value"] is None:
            data["value"] = Decimal(0) if data["type"] == "free_shipping" else _FRIEND.value
        if data["type"] == "percent" and not 0 < data["value"] <= 100:
            raise ValidationError({"value": ["a percentage must be more than 0 and at most 100"]})
        if data["type"] == "fixed_cart" and data["value"] <= 0:
            raise ValidationError({"value": ["must be more than 0"]})
        return FriendReward(**data)


def _landing_path(value: str) -> None:
    if value and not value.startswith("/"):
        raise ValidationError("must be a path on the shop, starting with /")


class ReferralLinkSchema(Section):
    link_base = Text(allow_empty=True, validate=_url, **_d("this shop's `link_base`", "", allow_none=True))
    landing_path = Text(
        allow_empty=True, validate=_landing_path, **_d("this shop's `landing_path`", "", allow_none=True)
    )

    @post_load
    def _settings(self, data: dict[str, Any], **kwargs: Any) -> ReferralLinkSettings:
        return ReferralLinkSettings((data["link_base"] or "").rstrip("/"), data["landing_path"] or "")


_REFERRALS = ReferralSettings()


class ReferralsSchema(Section):
    enabled = Flag(**_d("the referral program is on", False))
    referrer_points = Integer(minimum=0, **_d("points for the member whose friend's first order qualifies", 500))
    friend_points = Integer(minimum=0, **_d("points for the friend too, when the order qualifies", 0))
    friend_reward = fields.Nested(
        FriendRewardSchema, **_described("the friend's single-use coupon, locked to their e-mail")
    )
    min_order_amount = Number(**_d("the qualifying order's total, net of refunds", "0"))
    referrer_monthly_cap = Integer(minimum=0, **_d("friends' first orders counted per calendar month; 0: no cap", 10))
    hold_days = Integer(minimum=0, **_d("`null`: the same hold as earned points", None, allow_none=True))
    pending_during_hold = Flag(**_d("show the reward as pending from the friend's completed order on", False))
    link_base = Text(
        allow_empty=True, validate=_url, **_d("where `/r/<code>` links point; empty: `public_url`", "", allow_none=True)
    )
    landing_path = Text(validate=_landing_path, **_d("the shop page a link lands on (`?ref=<code>` appended)", "/"))
    code_length = Integer(minimum=6, **_d("characters of a referral code", 8))
    claims_per_ip_per_hour = Integer(minimum=1, **_d("referral claims per IP address per hour", 10))
    claims_per_code_per_hour = Integer(minimum=1, **_d("referral claims per code per hour", 30))
    qualify_interval_seconds = Integer(minimum=0, **_d("how often workers look for qualifying orders", 300))
    shops = fields.Dict(
        keys=Text(),
        values=fields.Nested(ReferralLinkSchema),
        **_d("per shop: `{<shop id>: {link_base, landing_path}}`", {}, allow_none=True),
    )

    @post_load
    def _settings(self, data: dict[str, Any], **kwargs: Any) -> ReferralSettings:
        data["link_base"] = (data["link_base"] or "").rstrip("/")
        data["shops"] = dict(data["shops"] or {})
        return ReferralSettings(**data)


# --- program: tiers (issue 16) -------------------------------------------------------------------------------------
class Window(fields.Field[tuple[str, int]]):
    """``lifetime``, ``calendar_year`` or ``{rolling_months: N}``: read as (kind, months)."""

    default_error_messages = {
        "invalid": "must be lifetime, calendar_year or {{rolling_months: N}} (N from 1 to 120)",
        "null": "must be lifetime, calendar_year or {{rolling_months: N}} (N from 1 to 120)",
    }

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> tuple[str, int]:
        if isinstance(value, str) and value.strip() in WINDOW_KINDS:
            return value.strip(), 0
        if isinstance(value, Mapping) and set(value) == {"rolling_months"}:
            months = value["rolling_months"]
            if isinstance(months, int) and not isinstance(months, bool) and 1 <= months <= 120:
                return "rolling", months
        raise self.make_error("invalid")

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, str | Mapping):  # a default as written (the API document shows it)
            return value
        kind, months = value
        return {"rolling_months": months} if kind == "rolling" else kind


class PerkSchema(Section):
    builds = Perk
    id = Text(validate=_pattern(REWARD_ID_PATTERN, "must be lower-case letters, digits, '-' or '_'"), **_d("unique"))
    type = Choice(PERK_TYPES, **_d("`free_shipping`: a single-use free-shipping coupon", "free_shipping"))
    period = Choice(PERK_PERIODS, **_d("given once per `month` or `year` (in `program.timezone`)", "month"))


class TierLevelSchema(Section):
    id = Text(validate=_pattern(REWARD_ID_PATTERN, "must be lower-case letters, digits, '-' or '_'"), **_d("unique"))
    name = ShopperText(**_d("what members see (a string, or one per locale: `{en: Gold, fa: طلایی}`)"))
    threshold = Number(**_d("the metric over the window that reaches this level (ascending from level to level)"))
    multiplier = Number(**_d("members of this level earn amount-rule points times this", 1))
    entry_points = Integer(minimum=0, strict=True, **_d("a bonus on reaching this level, once per member", 0))
    perks = Items(PerkSchema, unique="id", noun="perk", **_d("recurring benefits", [], allow_none=True))

    @post_load
    def _settings(self, data: dict[str, Any], **kwargs: Any) -> TierLevel:
        return TierLevel(**{**data, "perks": tuple(data["perks"] or ())})


class TiersSchema(Section):
    metric = Choice(METRICS, **_d("`points` earned (not spent), `spend` net of refunds or paid `orders`", "points"))
    window = Window(**_d("`lifetime`, `calendar_year` or `{rolling_months: N}`", "lifetime"))
    grace_days = Integer(
        minimum=0,
        strict=True,
        **_d("a downgrade waits this long after the period ends (rolling: after falling below)", 0),
    )
    warn_days = Integer(minimum=0, strict=True, **_d("a `tier_downgrade_warning` event this many days before", 14))
    downgrade = Choice(DOWNGRADES, **_d("`one_level` per review, or `to_qualified` at once", "one_level"))
    levels = Items(TierLevelSchema, unique="id", noun="tier", **_d("the levels, lowest first"))

    @validates_schema
    def _ascending(self, data: dict[str, Any], **kwargs: Any) -> None:
        levels = data.get("levels") or ()
        if not levels:
            raise ValidationError("at least one level", "levels")
        for i in range(1, len(levels)):
            if levels[i].threshold <= levels[i - 1].threshold:
                raise ValidationError({i: {"threshold": ["must be more than the level before's"]}}, "levels")

    @post_load
    def _settings(self, data: dict[str, Any], **kwargs: Any) -> TierSettings:
        kind, months = data["window"]
        return TierSettings(
            levels=tuple(data["levels"]),
            metric=data["metric"],
            window=kind,
            rolling_months=months,
            grace_days=data["grace_days"],
            warn_days=data["warn_days"],
            downgrade=data["downgrade"],
        )

    @pre_dump
    def _own_keys(self, tiers: TierSettings, **kwargs: Any) -> dict[str, Any]:
        return {
            "metric": tiers.metric,
            "window": (tiers.window, tiers.rolling_months),
            "grace_days": tiers.grace_days,
            "warn_days": tiers.warn_days,
            "downgrade": tiers.downgrade,
            "levels": [
                {**{f.name: getattr(level, f.name) for f in dataclass_fields(level)}, "perks": list(level.perks)}
                for level in tiers.levels
            ],
        }


def _month(value: int) -> None:
    if not 1 <= value <= 12:
        raise ValidationError("must be a month, 1 to 12")


class CustomSegmentSchema(Section):
    builds = CustomSegment
    id = Text(validate=_pattern(REWARD_ID_PATTERN, "must be lower-case letters, digits, '-' or '_'"), **_d("unique"))
    name = ShopperText(**_d("what the owner (and campaigns) call it"))
    tiers = Items(Text(), **_described("members of one of these tiers", **_ID_LIST))
    min_balance = Integer(minimum=0, strict=True, **_d("at least this many available points", None, allow_none=True))
    min_orders = Integer(minimum=0, strict=True, **_d("at least this many paid orders", None, allow_none=True))
    max_orders = Integer(minimum=0, strict=True, **_d("at most this many paid orders", None, allow_none=True))
    min_spent = Number(**_d("spent at least this much, net of refunds", None, allow_none=True))
    ordered_within_days = Integer(
        minimum=1, strict=True, **_d("last order within this many days", None, allow_none=True)
    )
    not_ordered_for_days = Integer(
        minimum=1, strict=True, **_d("no order for at least this many days", None, allow_none=True)
    )
    birthday_months = Items(
        Integer(minimum=1, strict=True, validate=_month), **_described("born in one of these months (1-12)", **_ID_LIST)
    )


class SegmentsSchema(Section):
    names = fields.Dict(
        keys=Choice(tuple(RFM_SEGMENTS)),
        values=ShopperText(),
        **_d("display names of the RFM segments (`{at_risk: Miss you}`)", {}, allow_none=True),
    )
    custom = Items(CustomSegmentSchema, unique="id", noun="segment", **_d("the owner's segments", [], allow_none=True))
    interval_seconds = Number(as_float=True, **_d("how often workers score members (RFM) and fill segments", 86400))

    @validates_schema
    def _own_ids(self, data: dict[str, Any], **kwargs: Any) -> None:
        for i, segment in enumerate(data.get("custom") or ()):
            if segment.id in RFM_SEGMENTS:
                raise ValidationError({i: {"id": [f"{segment.id!r} is an RFM segment's id"]}}, "custom")

    @post_load
    def _settings(self, data: dict[str, Any], **kwargs: Any) -> SegmentSettings:
        return SegmentSettings(
            names=dict(data["names"] or {}),
            custom=tuple(data["custom"] or ()),
            interval_seconds=data["interval_seconds"],
        )

    @pre_dump
    def _own_keys(self, segments: SegmentSettings, **kwargs: Any) -> dict[str, Any]:
        return {
            "names": dict(segments.names),
            "custom": list(segments.custom),
            "interval_seconds": segments.interval_seconds,
        }


class ProgramSchema(Section):
    id = Text(
        validate=_pattern(SHOP_ID_PATTERN, "must be lower-case letters, digits, '-' or '_'"),
        **_d("the program's id", "default"),
    )
    name = ShopperText(**_d("the club's name (a string, or one per locale: `{en: ..., fa: ...}`)", "Loyalty club"))
    timezone = Text(**_d("campaign windows, cap periods and birthdays are read in this zone", "UTC"))
    membership = fields.Nested(MembershipSchema, **_described("who is a member"))
    earn = fields.Nested(EarnSchema, **_described("how points are earned"))
    rewards = Items(
        RewardSchema,
        unique="id",
        noun="reward",
        **_d("the rewards catalogue: see [Rewards & redemption](#rewards--redemption)", [], allow_none=True),
    )
    redemption = fields.Nested(
        RedemptionSchema, **_described("coupon codes, waits, retries, recovery, expiry and refunds")
    )
    referrals = fields.Nested(ReferralsSchema, **_described("the referral program"))
    segments = fields.Nested(SegmentsSchema, **_described("segments: RFM names and the owner's own"))
    tiers = fields.Nested(TiersSchema, **_d("tiers: see [Tiers](#tiers); `null`: none", None, allow_none=True))

    @validates_schema
    def _zone(self, data: dict[str, Any], **kwargs: Any) -> None:
        try:
            ZoneInfo(data["timezone"])
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(f"unknown time zone {data['timezone']!r}", "timezone") from exc

    @validates_schema
    def _tier_references(self, data: dict[str, Any], **kwargs: Any) -> None:
        tiers: TierSettings | None = data.get("tiers")
        if tiers is not None and data["earn"]["tier_multipliers"]:
            # One place for a tier's multiplier: the level. An old config moves it there (README: Tiers).
            raise ValidationError(
                {
                    "tier_multipliers": [
                        "with program.tiers, set each level's multiplier instead (tiers.levels[].multiplier)"
                    ]
                },
                "earn",
            )
        known = {level.id for level in tiers.levels} if tiers is not None else set()
        segment_ids = set(data["segments"].ids())
        for spec in data["earn"]["rules"] or ():
            unknown_segments = [s for s in spec.options.get("segments", ()) if s not in segment_ids]
            if spec.type in SEGMENT_TYPES and unknown_segments:  # a typo would quietly award nobody
                raise ValidationError(
                    {"rules": {spec.id: {"segments": [f"unknown segment {unknown_segments[0]!r}"]}}}, "earn"
                )
        for i, segment in enumerate(data["segments"].custom):
            unknown_tiers = [tier for tier in segment.tiers if tier not in known]
            if unknown_tiers:
                raise ValidationError(
                    {"custom": {i: {"tiers": [f"unknown tier {unknown_tiers[0]!r} (program.tiers.levels[].id)"]}}},
                    "segments",
                )
        for i, reward in enumerate(data.get("rewards") or ()):
            unknown = [tier for tier in reward.tiers if tier not in known]
            if unknown:
                raise ValidationError(
                    {i: {"tiers": [f"unknown tier {unknown[0]!r} (program.tiers.levels[].id)"]}}, "rewards"
                )

    @post_load
    def _settings(self, data: dict[str, Any], **kwargs: Any) -> ProgramSettings:
        earn = data["earn"]
        earning = EarningSettings(
            timezone=data["timezone"],
            membership=data["membership"],
            release=earn["release"],
            hold_days=earn["hold_days"],
            release_interval_seconds=earn["release_interval_seconds"],
            birthday_interval_seconds=earn["birthday_interval_seconds"],
            expiry=earn["expiry"],
            tier_multipliers=dict(earn["tier_multipliers"] or {}),
            rules=earn["rules"],
        )
        # Build once now: a rule whose options do not go together stops the service at start, with its key.
        build_rule_set(
            earning,
            points_per_currency_unit=earn["points_per_currency_unit"],
            signup_points=earn["signup_points"],
            rounding=earn["rounding"],
        )
        return ProgramSettings(
            id=data["id"],
            name=data["name"],
            earn=EarnSettings(
                points_per_currency_unit=earn["points_per_currency_unit"],
                signup_points=earn["signup_points"],
                paid_statuses=earn["paid_statuses"],
                rounding=earn["rounding"],
            ),
            rewards=data["rewards"],
            redemption=data["redemption"],
            referrals=data["referrals"],
            earning=earning,
            tiers=data["tiers"],
            segments=data["segments"],
        )

    @pre_dump
    def _nested(self, program: ProgramSettings, **kwargs: Any) -> dict[str, Any]:
        return {
            "id": program.id,
            "name": program.name,
            "timezone": program.earning.timezone,
            "membership": program.earning.membership,
            "earn": program,
            "rewards": program.rewards,
            "redemption": program.redemption,
            "referrals": program.referrals,
            "tiers": program.tiers,
            "segments": program.segments,
        }


# --- shops and the whole file --------------------------------------------------------------------------------------
def _origin(value: str) -> None:
    parts = urlsplit(value.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
        raise ValidationError("must be an origin: scheme://host[:port], no path")


class ShopSchema(Section):
    id = Text(
        validate=_pattern(SHOP_ID_PATTERN, "must be lower-case letters, digits, '-' or '_' (it appears in URLs)"),
        **_d("the shop's id in the bridge (in URLs)"),
    )
    platform = Choice(PLATFORMS, **_d("the shop software", "woocommerce"))
    url = Text(
        validate=lambda v: _url(v, "must start with http:// or https://"),
        **_d("the shop's address; absent: completed by `bridge connect`'s stored connection", None, allow_none=True),
    )
    consumer_key = Text(allow_empty=True, **_d("WooCommerce REST API key", ""))
    consumer_secret = Text(allow_empty=True, **_d("WooCommerce REST API secret", ""))
    webhook_secret = Text(allow_empty=True, **_d("signs the shop's webhooks; empty: every delivery is refused", ""))
    currency = Text(
        case="upper",
        validate=_pattern(re.compile(r"[A-Z]{3}$"), "must be an ISO 4217 code such as USD"),
        **_d("the shop's currency (required with `url`)", None, allow_none=True),
    )
    minor_unit = Integer(minimum=0, **_d("decimals of the currency (default: ISO 4217's)", None, allow_none=True))
    widget_secret = Text(
        allow_empty=True,
        validate=_min_length(32, " (it signs shopper tokens)"),
        **_d("HS256 key the shop signs shoppers' widget tokens with; empty: widget API off", ""),
    )
    allowed_origins = Items(
        Text(validate=_origin),
        **_d(
            "browser origins allowed to call `/widget/v1` (CORS); `null`: the origin of `url`. A refused origin is "
            "logged (a warning naming the origin and the shop, at most once per origin and shop every 10 minutes)",
            None,
            allow_none=True,
        ),
    )
    demo = Flag(
        **_d(
            "serve the demo page at `/`: the widget signed in as a made-up shopper (`shopper@demo.invalid`) with a few "
            "orders. Never on a real shop: the page hands a token to anyone",
            False,
        )
    )

    @validates_schema
    def _currency(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["url"] is not None and data["currency"] is None:
            raise ValidationError("must be a string", "currency")

    @post_load
    def _settings(self, data: dict[str, Any], **kwargs: Any) -> ShopSettings:
        url = (data["url"] or "").rstrip("/")
        currency = data["currency"] or ""
        origins = data["allowed_origins"]
        if origins is None:
            parts = urlsplit(url)
            origins = (f"{parts.scheme}://{parts.netloc}",) if url else ()
        minor = data["minor_unit"]
        return ShopSettings(
            id=data["id"],
            platform=data["platform"],
            url=url,
            consumer_key=data["consumer_key"],
            consumer_secret=data["consumer_secret"],
            webhook_secret=data["webhook_secret"],
            currency=currency,
            minor_unit=currency_minor_unit(currency) if minor is None else minor,
            widget_secret=data["widget_secret"],
            allowed_origins=tuple(o.rstrip("/") for o in origins),
            demo=data["demo"],
            minor_unit_given=minor is not None,
        )

    @pre_dump
    def _own_keys(self, shop: ShopSettings, **kwargs: Any) -> dict[str, Any]:
        data = {f.name: getattr(shop, f.name) for f in dataclass_fields(shop) if f.name != "minor_unit_given"}
        if not shop.minor_unit_given:
            del data["minor_unit"]
        if not shop.url:  # completed by its connection: url, currency and origins come from there
            data.update(url=None, currency=data["currency"] or None, allowed_origins=None)
        return data


def _redis_url(value: str) -> None:
    if value != "embedded" and not value.startswith(("redis://", "rediss://", "unix://")):
        raise ValidationError("must be 'embedded' or a redis://, rediss:// or unix:// URL")


def _database_url(value: str) -> None:
    if not value.startswith(("sqlite://", "postgresql")):
        raise ValidationError("must be a sqlite:// or postgresql:// URL")


def _public_url(value: str) -> None:
    parts = urlsplit(value.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError("must be an absolute http:// or https:// URL, such as https://loyalty.example")


# --- notifications (issue 17) --------------------------------------------------------------------------------------
_EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _clock_time(value: str) -> None:
    if not _CLOCK_TIME.match(value):
        raise ValidationError("must be a time of day such as 21:00")


class EmailSchema(Section):
    builds = EmailSettings
    host = Text(allow_empty=True, **_d('SMTP server; `""`: no e-mail', ""))
    port = Integer(minimum=1, **_d("SMTP port (587 for STARTTLS, 465 for TLS)", 587))
    security = Choice(EMAIL_SECURITY, **_d("`none`, `starttls` or `tls`", "starttls"))
    username = Text(allow_empty=True, **_d('SMTP login; `""`: no authentication', ""))
    password = Text(allow_empty=True, **_d("SMTP password (never logged)", ""))
    from_address = Text(allow_empty=True, **_d("the sender, e.g. `Club <club@shop.example>`", ""))
    timeout_seconds = Number(as_float=True, above=True, **_d("per SMTP conversation", 10))


class SmsSchema(Section):
    builds = SmsSettings
    provider = Choice(SMS_PROVIDERS, **_d("`none`, `http_json` (any JSON API) or `kavenegar`", "none"))
    url = Text(allow_empty=True, validate=_url, **_d("`http_json`: the endpoint; `kavenegar`: its API base", ""))
    api_key = Text(allow_empty=True, **_d("`http_json`: Bearer token; `kavenegar`: the API key (never logged)", ""))
    sender = Text(allow_empty=True, **_d("sender number or name", ""))
    timeout_seconds = Number(as_float=True, above=True, **_d("per request", 10))


def _event_names(values: Any) -> None:
    for value in values:
        if not _EVENT_NAME.match(value):
            raise ValidationError(f"{value!r} is not an event name (lower case, digits, _)")


class WebhookEndpointSchema(Section):
    builds = WebhookEndpoint
    id = Text(validate=_pattern(SHOP_ID_PATTERN, "must be letters, digits, - or _"), **_d("names the endpoint"))
    url = Text(validate=_url, **_d("where events are POSTed"))
    secret = Text(
        validate=_pattern(re.compile(r"^whsec_[A-Za-z0-9+/=]{24,}$"), "must be `whsec_` + base64 (24+ characters)"),
        **_d("Standard Webhooks signing secret, `whsec_...`"),
    )
    events = Items(Text(), validate=_event_names, **_d("event types sent; `[]`: all", [], allow_none=True))


class EventSchema(Section):
    channels = Choice(CHANNELS, many=True, **_d("`email`, `sms`, `webhook`", ["email"]))
    enabled = Flag(**_d("`false`: never sent", True))
    delay_days = Integer(minimum=0, **_d("sent this many days after the event", 0))

    @post_load
    def _settings(self, data: dict[str, Any], **kwargs: Any) -> EventSettings:
        return EventSettings(**data)


class QuietHoursSchema(Section):
    start = Text(validate=_clock_time, **_d("from (program time zone)", "21:00"))
    end = Text(validate=_clock_time, **_d("until; messages wait, never dropped", "09:00"))

    @post_load
    def _settings(self, data: dict[str, Any], **kwargs: Any) -> QuietHours:
        return QuietHours(time.fromisoformat(data["start"]), time.fromisoformat(data["end"]))

    @pre_dump
    def _text(self, quiet: QuietHours, **kwargs: Any) -> dict[str, Any]:
        return {"start": f"{quiet.start:%H:%M}", "end": f"{quiet.end:%H:%M}"}


class OccasionSchema(Section):
    builds = Occasion
    id = Text(validate=_pattern(SHOP_ID_PATTERN, "must be letters, digits, - or _"), **_d("e.g. `nowruz`"))
    calendar = Choice(CALENDARS, **_d("`gregorian` or `jalali`", "gregorian"))
    month = Integer(minimum=1, **_d("1-12 in that calendar"))
    day = Integer(minimum=1, **_d("1-31 in that calendar"))
    points = Integer(minimum=0, **_d("a gift on the day, once a year per member (0: a greeting only)", 0))
    segments = _strings("only members of these segments (program.segments); empty: every member")

    @validates_schema
    def _real_day(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["month"] > 12 or data["day"] > 31:
            raise ValidationError("must be a day of the year (month 1-12, day 1-31)", "day")


class CampaignSchema(Section):
    builds = Campaign
    id = Text(validate=_pattern(SHOP_ID_PATTERN, "must be letters, digits, - or _"), **_d("unique; e.g. `yalda-offer`"))
    at = Moment(**_d("when it goes out (in `program.timezone` without an offset); sent within a day after"))
    subject = ShopperText(**_d("the e-mail's subject (a string, or one per locale)"))
    text = ShopperText(**_d("the message (a string, or one per locale)"))
    segments = _strings("only members of these segments (program.segments); empty: every member")
    points = Integer(minimum=0, **_d("a gift with the message, once per member", 0))


class NotificationsSchema(Section):
    email = fields.Nested(EmailSchema, **_described("the e-mail channel (SMTP)"))
    sms = fields.Nested(SmsSchema, **_described("the SMS channel"))
    webhooks = Items(
        WebhookEndpointSchema,
        unique="id",
        noun="webhook",
        **_d("the owner's endpoints, signed per Standard Webhooks", [], allow_none=True),
    )
    events = fields.Dict(
        keys=Text(validate=lambda v: _event_names([v])),
        values=fields.Nested(EventSchema),
        metadata={
            "description": "per event type: `{channels, enabled, delay_days}`; absent: webhooks only",
            "placeholder": "<event>",
        },
        load_default={},
        allow_none=True,
    )
    quiet_hours = fields.Nested(
        QuietHoursSchema, **_d("`{start, end}`: member messages wait until the end", None, allow_none=True)
    )
    max_per_member_per_day = Integer(minimum=0, **_d("messages per member per day (program zone); 0: no cap", 0))
    locale = Choice(LOCALES, **_d("members' language: `en` or `fa`", "en"))
    dispatch_interval_seconds = Number(as_float=True, **_d("how often workers send what is due; 0: off", 5))
    batch_size = Integer(minimum=1, **_d("deliveries claimed per transaction", 200))
    concurrency = Integer(minimum=1, **_d("messages in flight at once (each thread its own SMTP connection)", 8))
    max_attempts = Integer(minimum=1, **_d("then the delivery is dead-lettered (replayable)", 8))
    retry_base_seconds = Integer(minimum=0, **_d("backoff: 30s, 60s, 120s, ... capped at `retry_max_seconds`", 30))
    retry_max_seconds = Integer(minimum=0, **_d("longest wait between two attempts", 3600))
    lease_seconds = Integer(minimum=1, **_d("a claimed delivery not recorded by then is sent again", 300))
    win_back_days = Integer(minimum=0, **_d("`win_back` after this many days without an order; 0: off", 0))
    coupon_expiring_days = Integer(minimum=0, **_d("`coupon_expiring` this many days before a coupon expires", 3))
    occasions = Items(
        OccasionSchema,
        unique="id",
        noun="occasion",
        **_d(
            "`[{id, calendar, month, day, points, segments}]`: an `occasion` event (and gift) to members that day",
            [],
            allow_none=True,
        ),
    )
    expiry_reminder_days = Items(
        Integer(minimum=1),
        **_d(
            "more `points_expiring_soon` messages for points that expire within this many days (the first comes "
            "`program.earn.expiry.warn_days` before), e.g. `[7]`",
            [],
            allow_none=True,
        ),
    )
    campaigns = Items(
        CampaignSchema,
        unique="id",
        noun="campaign",
        **_d(
            "`[{id, at, subject, text, segments, points}]`: a `campaign` message to segments at a time",
            [],
            allow_none=True,
        ),
    )

    @validates_schema
    def _channels_configured(self, data: dict[str, Any], **kwargs: Any) -> None:
        """An event sent by e-mail or SMS needs that channel configured: say so at start, not by silence later."""
        ready = {"email": data["email"].enabled, "sms": data["sms"].enabled, "webhook": True}
        for name, event in sorted((data.get("events") or {}).items()):
            missing = [c for c in event.channels if not ready[c]] if event.enabled else []
            if missing:
                where = "email.host and email.from_address" if missing[0] == "email" else "sms.provider"
                raise ValidationError(f"{name} is sent by {missing[0]}, which is not configured ({where})", "events")

    @post_load
    def _settings(self, data: dict[str, Any], **kwargs: Any) -> NotificationSettings:
        data["events"] = tuple(sorted((data["events"] or {}).items()))
        return NotificationSettings(**data)

    @pre_dump
    def _plain(self, n: NotificationSettings, **kwargs: Any) -> dict[str, Any]:
        return {**{f.name: getattr(n, f.name) for f in dataclass_fields(n)}, "events": dict(n.events)}


class SettingsSchema(Section):
    """The whole ``config.yaml``. ``source`` and ``base_dir`` (where a relative ``data_dir`` is read from) are the
    loader's, not the file's."""

    data_dir = Text(
        **_d(
            "SQLite database, embedded Redis socket and log, `secret.key`; relative to the config file's folder",
            "./data",
        )
    )
    database_url = Text(
        validate=_database_url,
        **_d(
            "`null`: SQLite at `<data_dir>/bridge.db` (WAL, `synchronous=FULL`: a commit is on disk before the "
            "answer); "
            "or `postgresql://user:pw@host/db` (psycopg 3)",
            None,
            allow_none=True,
        ),
    )
    redis_url = Text(
        validate=_redis_url, **_d("`embedded` (a redis-server started by `bridge run`) or `redis://...`", "embedded")
    )
    log_level = Choice(
        ("DEBUG", "INFO", "WARNING", "ERROR"), case="upper", **_d("`DEBUG`, `INFO`, `WARNING` or `ERROR`", "INFO")
    )
    log_format = Choice(
        ("text", "json"),
        case="lower",
        **_d(
            "`text`, or `json`: one JSON object per line, with the request id (see "
            "[Operations](#operations-metrics-and-logs))",
            "text",
        ),
    )
    trusted_proxies = Integer(
        minimum=0,
        **_d(
            "reverse proxies in front of the bridge whose `X-Forwarded-For` is believed: see [Production](#production)",
            0,
        ),
    )
    admin = fields.Nested(AdminSchema, **_described("the admin API"))
    webhooks = fields.Nested(WebhooksSchema, **_described("webhook intake"))
    inbox = fields.Nested(InboxSchema, **_described("applying deliveries: batches, retries, sweeps"))
    program = fields.Nested(ProgramSchema, **_described("the loyalty program"))
    shops = Items(
        ShopSchema,
        unique="id",
        noun="shop",
        **_d("the shops (a shop set up with `bridge connect` needs only `{id, widget_secret}`)", [], allow_none=True),
    )
    secret_key = Text(
        validate=_min_length(32, " (it encrypts stored shop credentials)"),
        **_d(
            "encrypts stored shop credentials (≥ 32 characters); `null`: `data_dir/secret.key`, generated on "
            "first use; "
            "keep it with your backups",
            None,
            allow_none=True,
        ),
    )
    public_url = Text(
        validate=_public_url,
        **_d("the bridge's public base URL, where `bridge connect` points webhooks", None, allow_none=True),
    )
    sync = fields.Nested(SyncSchema, **_described("reconciliation, webhook health, backfill"))
    clock = fields.Nested(ClockSchema, **_described("the bridge's clock"))
    notifications = fields.Nested(NotificationsSchema, **_described("messages to members and webhooks (issue 17)"))
    metrics = fields.Nested(MetricsSchema, **_described("Prometheus metrics (issue 19)"))

    def __init__(self, *, source: str = "<mapping>", base_dir: Path | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.base_dir = base_dir or Path()

    @validates_schema
    def _notification_segments(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Occasions and campaigns name segments of the program: a typo would reach nobody, so it stops the start."""
        known = set(data["program"].segments.ids())
        notifications: NotificationSettings = data["notifications"]
        named: tuple[tuple[str, tuple[Occasion | Campaign, ...]], ...] = (
            ("occasions", notifications.occasions),
            ("campaigns", notifications.campaigns),
        )
        for field_name, items in named:
            for i, item in enumerate(items):
                unknown = [s for s in item.segments if s not in known]
                if unknown:
                    reason = f"unknown segment {unknown[0]!r} (program.segments)"
                    raise ValidationError({field_name: {i: {"segments": [reason]}}}, "notifications")

    @post_load
    def _settings(self, data: dict[str, Any], **kwargs: Any) -> Settings:
        # Relative to the config file, not to wherever the command happens to run (else: a new, empty database there).
        data_dir = (self.base_dir / data["data_dir"]).resolve()
        database_url = data["database_url"] or f"sqlite:///{(data_dir / 'bridge.db').resolve()}"
        return Settings(
            source=self.source,
            data_dir=data_dir,
            database_url=database_url,
            redis_url=data["redis_url"],
            log_level=data["log_level"],
            admin_api_keys=data["admin"]["api_keys"],
            max_body_bytes=data["webhooks"]["max_body_bytes"],
            inbox=data["inbox"],
            program=data["program"],
            shops=data["shops"],
            sync=data["sync"],
            secret_key=data["secret_key"] or "",
            public_url=(data["public_url"] or "").rstrip("/"),
            clock_offset_seconds=float(data["clock"]["offset_seconds"]),
            trusted_proxies=data["trusted_proxies"],
            notifications=data["notifications"],
            log_format=data["log_format"],
            metrics=data["metrics"],
        )

    @pre_dump
    def _nested(self, settings: Settings, **kwargs: Any) -> dict[str, Any]:
        return {
            "data_dir": str(settings.data_dir),
            "database_url": settings.database_url,
            "redis_url": settings.redis_url,
            "log_level": settings.log_level,
            "trusted_proxies": settings.trusted_proxies,
            "admin": {"api_keys": settings.admin_api_keys},
            "webhooks": {"max_body_bytes": settings.max_body_bytes},
            "inbox": settings.inbox,
            "program": settings.program,
            "shops": settings.shops,
            "secret_key": settings.secret_key or None,
            "public_url": settings.public_url or None,
            "sync": settings.sync,
            "clock": {"offset_seconds": settings.clock_offset_seconds},
            "notifications": settings.notifications,
            "log_format": settings.log_format,
            "metrics": settings.metrics,
        }


# --- marshmallow's messages -> one ConfigError --------------------------------------------------------------------
_MARSHMALLOW_WORDS = {
    "Invalid input type.": "must be a mapping",
    "Not a valid list.": "must be a list",
    "Not a valid mapping type.": "must be a mapping",
    "Missing data for required field.": "is required",
    "Field may not be null.": "must not be null",
}


def _known_keys(schema: Schema) -> list[str]:
    return sorted(field.data_key or name for name, field in schema.load_fields.items())


def _unknown_reason(name: str, known: list[str]) -> str:
    return ConfigError.unknown_key("", name, known).reason


def _name_unknown_keys(schema: Schema, messages: Any) -> Any:
    """A rule's schema is picked by its type, out of the tree's sight: say which keys it knows right away."""
    if not isinstance(messages, dict):
        return messages
    return {
        key: [_unknown_reason(str(key), _known_keys(schema))] if value == [schema.error_messages["unknown"]] else value
        for key, value in messages.items()
    }


def _first_error(node: Any, messages: Any, path: str) -> tuple[str, str]:
    """The first (path, reason) in marshmallow's nested ``messages``, walking the schema beside them."""
    if isinstance(messages, list | tuple):
        first = messages[0]
        if isinstance(first, dict | list):
            return _first_error(node, first, path)
        return path, _MARSHMALLOW_WORDS.get(str(first), str(first))
    if not isinstance(messages, dict):
        return path, str(messages)
    if isinstance(node, fields.Nested):
        node = node.schema
    # An unknown key first: a typo is why a required key seems missing.
    known = _known_keys(node) if isinstance(node, Schema) else []

    def unknown(item: tuple[Any, Any]) -> bool:
        key, value = item
        if isinstance(node, Schema):
            return key != "_schema" and key not in known
        return isinstance(value, list) and any(str(reason).startswith("unknown key") for reason in value)

    key, value = next(filter(unknown, messages.items()), next(iter(messages.items())))
    if isinstance(node, Schema):
        if key == "_schema":
            return _first_error(None, value, path)
        field = next((f for n, f in node.load_fields.items() if (f.data_key or n) == key), None)
        child = f"{path}.{key}" if path else str(key)
        if field is None:
            return child, _unknown_reason(str(key), _known_keys(node))
        return _first_error(field, value, child)
    if isinstance(node, fields.List):
        return _first_error(node.inner, value, f"{path}[{key}]")
    if isinstance(node, fields.Dict):  # {map key: {"key" | "value": messages}}
        part, inner = next(iter(value.items())) if isinstance(value, dict) else ("value", value)
        return _first_error(node.value_field if part == "value" else node.key_field, inner, f"{path}.{key}")
    return _first_error(None, value, f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}")


def config_error(source: str, err: ValidationError, schema: Schema) -> ConfigError:
    key, reason = _first_error(schema, err.messages, "")
    return ConfigError(source, key or "-", reason)


def load(raw: Mapping[str, Any], source: str, base_dir: Path) -> Settings:
    """Validate the merged mapping; raises ``ConfigError`` naming ``source``, the dotted key and the reason."""
    schema = SettingsSchema(source=source, base_dir=base_dir)
    try:
        settings: Settings = schema.load(raw)
    except ValidationError as err:
        raise config_error(source, err, schema) from err
    except ConfigError as err:  # a rule's options that do not go together (bridge.rules.config)
        raise ConfigError(source, err.key, err.reason) from err
    return settings


def dump(settings: Settings) -> dict[str, Any]:
    """``settings`` back in ``config.yaml``'s shape: loading it gives equal settings."""
    data: dict[str, Any] = SettingsSchema().dump(settings)
    return data


# --- the README's reference table ---------------------------------------------------------------------------------
def _type_name(field: fields.Field[Any]) -> str:
    if isinstance(field, Choice):
        names = " \\| ".join(f"`{c}`" for c in field.choices)
        return f"list of {names}" if field.many else names
    if isinstance(field, Rules):
        return "list of rules"
    if isinstance(field, fields.List):
        inner = "mappings" if isinstance(field.inner, fields.Nested) else _type_name(field.inner)
        return "list of " + ("strings" if inner == "string" else inner)
    if isinstance(field, fields.Dict):
        return "mapping"
    if isinstance(field, Integer):
        return "integer" + (f" ≥ {field.minimum}" if field.minimum is not None else "")
    if isinstance(field, Number):
        kind = "number"
        if field.minimum is None:
            return kind
        return f"{kind} {'>' if field.above else '≥'} {field.minimum}"
    if isinstance(field, Flag):
        return "boolean"
    if isinstance(field, Moment):
        return "date-time"
    if isinstance(field, Weekdays):
        return "list of weekdays"
    if isinstance(field, Window):
        return "`lifetime` \\| `calendar_year` \\| `{rolling_months: N}`"
    if type(field) is fields.Raw:
        return "any"
    if isinstance(field, fields.Float):
        return "number"
    return "string"


def _default_text(field: fields.Field[Any]) -> str:
    if field.required:
        return "required"
    if field.load_default is missing:
        return "—"
    default = field.load_default
    if default is None:
        return "`null`"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, list | tuple):
        return f"`[{', '.join(map(str, default))}]`"
    if isinstance(default, dict):
        return "`{}`"
    return f"`{default}`" if str(default) else '`""`'


def _rows(schema: Schema, prefix: str) -> list[tuple[str, str, str, str]]:
    rows = []
    for name, field in schema.load_fields.items():
        key = f"{prefix}{field.data_key or name}"
        description = str(field.metadata.get("description", ""))
        if isinstance(field, fields.Nested) and not isinstance(field, fields.Pluck):
            if field.allow_none:  # an optional sub-mapping: one row, then its keys
                rows.append((key, "mapping", "—", description))
            rows.extend(_rows(field.schema, key + "."))
        elif isinstance(field, Items) and isinstance(field.inner, fields.Nested):
            rows.append((key + "[]", "list of mappings", _default_text(field), description))
            rows.extend(_rows(field.inner.schema, key + "[]."))
        elif isinstance(field, fields.Dict) and isinstance(field.value_field, fields.Nested):
            rows.append((key, "mapping", _default_text(field), description))
            rows.extend(_rows(field.value_field.schema, f"{key}.{field.metadata.get('placeholder', '<shop id>')}."))
        elif isinstance(field, Rules):
            rows.append((key + "[]", "list of rules", _default_text(field), description))
            rows.extend(_rule_rows(key + "[]."))
        else:
            rows.append((key, _type_name(field), _default_text(field), description))
    return rows


def _rule_rows(prefix: str) -> list[tuple[str, str, str, str]]:
    rows = [(prefix + k, t, d, m) for k, t, d, m in _rows(RuleSchema(), "")]
    for kind, schema in RULE_TYPES.items():
        own = [row for row in _rows(schema(), "") if row[0] not in _COMMON_RULE_KEYS]
        rows.extend((f"{prefix}{k} ({kind})", t, d, m) for k, t, d, m in own)
    return rows


def reference_markdown() -> str:
    """The configuration reference: one row per key, generated from the schema (the README holds a copy)."""
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key, kind, default, description in _rows(SettingsSchema(), ""):
        key, _, rule_type = key.partition(" ")  # "program.earn.rules[].points (per_amount)"
        lines.append(f"| `{key}`{' ' + rule_type if rule_type else ''} | {kind} | {default} | {description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(reference_markdown())

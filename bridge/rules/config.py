"""``program.earn.rules`` and the life-of-a-point settings: their frozen dataclasses, and the ``RuleSet`` built
from them.

The keys, types and ranges are checked by the configuration schema (``bridge.config_schema``, one schema per rule
type); ``build_rule_set`` checks what a schema cannot see in one key: options that must go together (a campaign
needs a multiplier or points), a cap's rule ids, dates read in the program's zone. Pure like the rest of
``bridge/rules``: settings in, rules out, ``ConfigError`` naming the rule on error.

The old shorthand keys ``program.earn.points_per_currency_unit`` and ``program.earn.signup_points`` stay a public
contract: they become a ``per_amount`` rule with id ``per_amount`` and a ``signup`` rule with id ``signup`` when
``rules`` has no rule of that type (same ids as before, so ledger keys do not change).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bridge.errors import ConfigError
from bridge.rules import custom
from bridge.rules.base import OrderRule, SignupRule
from bridge.rules.bonuses import FirstOrderRule, NthOrderRule
from bridge.rules.campaign import WEEKDAYS, Campaign
from bridge.rules.caps import Cap
from bridge.rules.engine import RuleSet
from bridge.rules.events import EventRule
from bridge.rules.lines import ONE, ZERO, LineRule
from bridge.rules.membership import Membership
from bridge.rules.per_amount import PerAmountRule
from bridge.rules.signup import BirthdayRule, SignupBonusRule

RELEASE_MODES = ("after_hold", "on_payment")
EXPIRY_MODES = ("none", "lot", "inactivity")
BUILT_IN_TYPES: tuple[str, ...] = ("per_amount", "multiplier", "exclusion", "first_order", "nth_order", "signup")
BUILT_IN_TYPES += ("birthday", "campaign", "cap", "custom")
BUILT_IN_TYPES += ("event",)  # issue 19: custom events
SEGMENT_TYPES = ("per_amount", "multiplier", "exclusion", "first_order", "nth_order", "birthday", "campaign", "event")
"""Rule types that take ``segments`` (issue 16). Not ``signup`` (a new member is in no segment yet), ``cap`` (a
limit, not a condition) or ``custom`` (a plug-in reads its own options)."""


@dataclass(frozen=True)
class RuleSpec:
    """One entry of ``program.earn.rules`` after validation; ``options`` are the type's own keys, typed and with
    their defaults for a built-in type (``bridge.config_schema``), as written for a plug-in's."""

    id: str
    type: str
    name: str = ""
    description: str = ""
    enabled: bool = True
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExpirySettings:
    mode: str = "none"  # none | lot (each earned lot N months after it became available) | inactivity
    months: int = 12
    warn_days: int = 30  # the "expiring soon" event is recorded this many days before
    interval_seconds: float = 86400


@dataclass(frozen=True)
class EarningSettings:
    timezone: str = "UTC"
    membership: Membership = field(default_factory=Membership)
    release: str = "after_hold"  # after_hold: pending until completed + hold_days; on_payment: available at once
    hold_days: int = 14
    release_interval_seconds: float = 3600
    birthday_interval_seconds: float = 3600
    expiry: ExpirySettings = field(default_factory=ExpirySettings)
    tier_multipliers: Mapping[str, Decimal] = field(default_factory=dict)
    rules: tuple[RuleSpec, ...] = ()

    @property
    def zone(self) -> tzinfo:
        return ZoneInfo(self.timezone)


def build_rule_set(
    earning: EarningSettings,
    *,
    points_per_currency_unit: Decimal,
    signup_points: int,
    rounding: str,
    source: str = "config",
) -> RuleSet:
    """The program's ``RuleSet``: shorthand keys plus the enabled ``rules``, in configuration order.

    Each option's type and range were checked by the schema; what is checked here spans options or rules, and
    names the rule by its id (``program.earn.rules[weekend]``)."""
    zone = earning.zone
    specs = [s for s in earning.rules if s.enabled]
    line_rules = tuple(_line_rule(source, s) for s in specs if s.type in ("multiplier", "exclusion"))
    order_rules: list[OrderRule] = []
    signup_rules: list[SignupRule] = []
    if not any(s.type == "per_amount" for s in earning.rules):
        order_rules.append(
            PerAmountRule("per_amount", points_per_currency_unit, rounding, line_rules=line_rules, name="Purchases")
        )
    if not any(s.type == "signup" for s in earning.rules) and signup_points > 0:
        signup_rules.append(SignupBonusRule("signup", signup_points, name="Create an account"))
    campaigns: list[Campaign] = []
    caps: list[Cap] = []
    birthdays: list[BirthdayRule] = []
    events: list[EventRule] = []
    ids = {s.id for s in earning.rules}
    for s in specs:
        key = f"program.earn.rules[{s.id}]"
        o = s.options
        if s.type == "per_amount":
            order_rules.append(_per_amount(s, rounding, line_rules))
        elif s.type == "first_order":
            order_rules.append(
                FirstOrderRule(s.id, o["points"], o["minimum_amount"], s.name, s.description, _segments(s))
            )
        elif s.type == "nth_order":
            order_rules.append(_nth(source, s, key))
        elif s.type == "signup":
            signup_rules.append(SignupBonusRule(s.id, o["points"], s.name))
        elif s.type == "birthday":
            birthdays.append(BirthdayRule(s.id, o["points"], s.name, segments=_segments(s)))
        elif s.type == "campaign":
            campaigns.append(_campaign(source, s, key, zone))
        elif s.type == "cap":
            caps.append(_cap(source, s, key, ids))
        elif s.type == "event":
            events.append(
                EventRule(s.id, o["event"], o["points"], o["max_per_day"], s.name, s.description, _segments(s))
            )
        elif s.type not in ("multiplier", "exclusion"):
            name = str(o.get("entry_point", "")) if s.type == "custom" else s.type
            try:
                order_rules.append(custom.make(name, s.id, o.get("options", o)))
            except (LookupError, TypeError, ValueError) as exc:
                raise ConfigError(source, f"{key}.type", str(exc)) from exc
    return RuleSet(
        order_rules=tuple(order_rules),
        signup_rules=tuple(signup_rules),
        line_rules=line_rules,
        campaigns=tuple(campaigns),
        caps=tuple(caps),
        birthday_rules=tuple(birthdays),
        event_rules=tuple(events),
        tier_multipliers=dict(earning.tier_multipliers),
        membership=earning.membership,
        timezone=zone,
    )


def _per_amount(s: RuleSpec, rounding: str, lines: tuple[LineRule, ...]) -> PerAmountRule:
    o = s.options
    return PerAmountRule(
        id=s.id,
        points_per_unit=o["points"],
        rounding=o["rounding"] or rounding,
        per=o["per"],
        include_tax=o["include_tax"],
        include_shipping=o["include_shipping"],
        include_fees=o["include_fees"],
        before_discounts=o["before_discounts"],
        minimum_amount=o["minimum_amount"],
        name=s.name,
        description=s.description,
        line_rules=lines,
        segments=_segments(s),
    )


def _line_rule(source: str, s: RuleSpec) -> LineRule:
    o = s.options
    multiplier = ZERO if s.type == "exclusion" else o["multiplier"]
    categories = frozenset(c.lower() for c in o["categories"])
    products, skus = frozenset(o["products"]), frozenset(o["skus"])
    rule = LineRule(s.id, multiplier, products, skus, categories, s.name, segments=_segments(s))
    if not (rule.products or rule.skus or rule.categories):
        raise ConfigError(source, f"program.earn.rules[{s.id}]", "needs at least one of products, skus, categories")
    return rule


def _nth(source: str, s: RuleSpec, key: str) -> NthOrderRule:
    o = s.options
    if o["every"] is None and o["nth"] is None:
        raise ConfigError(source, key, "needs 'every' (every n-th order) or 'nth' (exactly the n-th order)")
    return NthOrderRule(s.id, o["points"], o["every"], o["nth"], o["within_days"], s.name, s.description, _segments(s))


def _campaign(source: str, s: RuleSpec, key: str, zone: tzinfo) -> Campaign:
    o = s.options
    campaign = Campaign(
        id=s.id,
        multiplier=o["multiplier"],
        points=o["points"],
        starts=_in_zone(o["starts"], zone),
        ends=_in_zone(o["ends"], zone),
        weekdays=frozenset(WEEKDAYS.index(day) for day in o["weekdays"]),
        name=s.name,
        description=s.description,
        segments=_segments(s),
    )
    if campaign.multiplier == ONE and campaign.points == 0:
        raise ConfigError(source, key, "a campaign needs a multiplier other than 1 or some points")
    return campaign


def _segments(s: RuleSpec) -> frozenset[str]:
    """``segments: [at_risk]`` (issue 16): the rule is for members in any of them (ids checked by the schema)."""
    return frozenset(s.options.get("segments") or ())


def _in_zone(moment: datetime | None, zone: tzinfo) -> datetime | None:
    """A date-time written without an offset is read in the program's zone."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _cap(source: str, s: RuleSpec, key: str, ids: set[str]) -> Cap:
    o = s.options
    if any(r not in ids | {"per_amount"} for r in o["rules"]):
        raise ConfigError(
            source, f"{key}.rules", "must list ids of rules in program.earn.rules (empty: every order award)"
        )
    return Cap(
        id=s.id,
        period=o["period"],
        max_points=o["max_points"],
        rule_ids=frozenset(o["rules"]),
        name=s.name,
        description=s.description,
    )

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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from bridge.errors import ConfigError
from bridge.rules import custom
from bridge.rules.base import OrderRule, SignupRule
from bridge.rules.bonuses import FirstOrderRule, NthOrderRule
from bridge.rules.campaign import WEEKDAYS, Campaign
from bridge.rules.caps import PERIODS, Cap
from bridge.rules.engine import RuleSet
from bridge.rules.lines import ONE, ZERO, LineRule
from bridge.rules.membership import Membership
from bridge.rules.per_amount import PerAmountRule
from bridge.rules.rounding import _MODES as ROUNDING
from bridge.rules.signup import BirthdayRule, SignupBonusRule

RELEASE_MODES = ("after_hold", "on_payment")
EXPIRY_MODES = ("none", "lot", "inactivity")
BUILT_IN_TYPES: tuple[str, ...] = ("per_amount", "multiplier", "exclusion", "first_order", "nth_order", "signup")
BUILT_IN_TYPES += ("birthday", "campaign", "cap", "custom")

# The options each built-in rule type reads, besides id, type, name, description and enabled.
RULE_OPTIONS: dict[str, frozenset[str]] = {
    kind: frozenset(names.split())
    for kind, names in {
        "per_amount": "points per rounding minimum_amount include_tax include_shipping include_fees before_discounts",
        "multiplier": "multiplier products skus categories",
        "exclusion": "products skus categories",
        "first_order": "points minimum_amount",
        "nth_order": "every nth within_days points",
        "signup": "points",
        "birthday": "points",
        "campaign": "multiplier points starts ends weekdays",
        "cap": "period max_points rules",
        "custom": "entry_point options",
    }.items()
}


@dataclass(frozen=True)
class RuleSpec:
    """One entry of ``program.earn.rules`` after validation; ``options`` are the type's own keys."""

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
    """The program's ``RuleSet``: shorthand keys plus the enabled ``rules``, in configuration order."""
    c = _Check(source)
    zone = earning.zone
    specs = [s for s in earning.rules if s.enabled]
    line_rules = tuple(_line_rule(c, s) for s in specs if s.type in ("multiplier", "exclusion"))
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
    ids = {s.id for s in earning.rules}
    for s in specs:
        key = f"program.earn.rules[{s.id}]"
        o = s.options
        if s.type == "per_amount":
            order_rules.append(_per_amount(c, s, key, rounding, line_rules))
        elif s.type == "first_order":
            order_rules.append(
                FirstOrderRule(
                    s.id,
                    c.integer(o.get("points"), f"{key}.points", 0),
                    c.decimal(o.get("minimum_amount", 0), f"{key}.minimum_amount"),
                    s.name,
                    s.description,
                )
            )
        elif s.type == "nth_order":
            order_rules.append(_nth(c, s, key))
        elif s.type == "signup":
            signup_rules.append(SignupBonusRule(s.id, c.integer(o.get("points"), f"{key}.points", 0), s.name))
        elif s.type == "birthday":
            birthdays.append(BirthdayRule(s.id, c.integer(o.get("points"), f"{key}.points", 0), s.name))
        elif s.type == "campaign":
            campaigns.append(_campaign(c, s, key, zone))
        elif s.type == "cap":
            caps.append(_cap(c, s, key, ids))
        elif s.type not in ("multiplier", "exclusion"):
            name = str(o.get("entry_point", "")) if s.type == "custom" else s.type
            try:
                order_rules.append(custom.make(name, s.id, o.get("options", o)))
            except (LookupError, TypeError, ValueError) as exc:
                raise c.fail(f"{key}.type", str(exc)) from exc
    return RuleSet(
        order_rules=tuple(order_rules),
        signup_rules=tuple(signup_rules),
        line_rules=line_rules,
        campaigns=tuple(campaigns),
        caps=tuple(caps),
        birthday_rules=tuple(birthdays),
        tier_multipliers=dict(earning.tier_multipliers),
        membership=earning.membership,
        timezone=zone,
    )


def _specs(c: _Check, raw: Any) -> tuple[RuleSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise c.fail("program.earn.rules", "must be a list of rules")
    seen: set[str] = set()
    specs = []
    for i, item in enumerate(raw):
        key = f"program.earn.rules[{i}]"
        item = c.mapping(item, key)
        rule_id = c.string(item.get("id"), f"{key}.id")
        if rule_id in seen or (rule_id in ("per_amount", "signup") and item.get("type") != rule_id):
            raise c.fail(f"{key}.id", f"duplicate or reserved rule id {rule_id!r}")
        seen.add(rule_id)
        kind = c.string(item.get("type"), f"{key}.type")
        common = {"id", "type", "name", "description", "enabled"}
        if kind in RULE_OPTIONS:  # a custom rule type (an entry point) reads options of its own choosing
            c.mapping(item, key, allowed=common | RULE_OPTIONS[kind])
        specs.append(
            RuleSpec(
                id=rule_id,
                type=kind,
                name=str(item.get("name") or ""),
                description=str(item.get("description") or ""),
                enabled=c.boolean(item.get("enabled", True), f"{key}.enabled"),
                options={k: v for k, v in item.items() if k not in common},
            )
        )
    return tuple(specs)


def _per_amount(c: _Check, s: RuleSpec, key: str, rounding: str, lines: tuple[LineRule, ...]) -> PerAmountRule:
    o = s.options
    per = c.decimal(o.get("per", 1), f"{key}.per", minimum=ZERO)
    if per == ZERO:
        raise c.fail(f"{key}.per", "must be greater than 0")
    return PerAmountRule(
        id=s.id,
        points_per_unit=c.decimal(o.get("points", 1), f"{key}.points", minimum=ZERO),
        rounding=c.choice(o.get("rounding", rounding), f"{key}.rounding", tuple(ROUNDING)),
        per=per,
        include_tax=c.boolean(o.get("include_tax", False), f"{key}.include_tax"),
        include_shipping=c.boolean(o.get("include_shipping", False), f"{key}.include_shipping"),
        include_fees=c.boolean(o.get("include_fees", False), f"{key}.include_fees"),
        before_discounts=c.boolean(o.get("before_discounts", False), f"{key}.before_discounts"),
        minimum_amount=c.decimal(o.get("minimum_amount", 0), f"{key}.minimum_amount", minimum=ZERO),
        name=s.name,
        description=s.description,
        line_rules=lines,
    )


def _line_rule(c: _Check, s: RuleSpec) -> LineRule:
    key = f"program.earn.rules[{s.id}]"
    o = s.options
    multiplier = ZERO if s.type == "exclusion" else c.decimal(o.get("multiplier"), f"{key}.multiplier", ZERO)

    def strings(name: str) -> frozenset[str]:
        value = o.get(name) or []
        if not isinstance(value, list):
            raise c.fail(f"{key}.{name}", "must be a list")
        return frozenset(str(v).strip().lower() if name == "categories" else str(v).strip() for v in value)

    rule = LineRule(s.id, multiplier, strings("products"), strings("skus"), strings("categories"), s.name)
    if not (rule.products or rule.skus or rule.categories):
        raise c.fail(key, "needs at least one of products, skus, categories")
    return rule


def _nth(c: _Check, s: RuleSpec, key: str) -> NthOrderRule:
    o = s.options
    every = c.integer(o["every"], f"{key}.every", 1) if o.get("every") is not None else None
    nth = c.integer(o["nth"], f"{key}.nth", 1) if o.get("nth") is not None else None
    if every is None and nth is None:
        raise c.fail(key, "needs 'every' (every n-th order) or 'nth' (exactly the n-th order)")
    within = c.integer(o["within_days"], f"{key}.within_days", 1) if o.get("within_days") is not None else None
    points = c.integer(o.get("points"), f"{key}.points", 0)
    return NthOrderRule(s.id, points, every, nth, within, s.name, s.description)


def _campaign(c: _Check, s: RuleSpec, key: str, zone: tzinfo) -> Campaign:
    o = s.options
    weekdays = o.get("weekdays") or []
    if not isinstance(weekdays, list) or any(str(d).lower()[:3] not in WEEKDAYS for d in weekdays):
        raise c.fail(f"{key}.weekdays", f"must be a list of {', '.join(WEEKDAYS)}")
    campaign = Campaign(
        id=s.id,
        multiplier=c.decimal(o.get("multiplier", 1), f"{key}.multiplier", minimum=ZERO),
        points=c.integer(o.get("points", 0), f"{key}.points", 0),
        starts=c.moment(o.get("starts"), f"{key}.starts", zone),
        ends=c.moment(o.get("ends"), f"{key}.ends", zone),
        weekdays=frozenset(WEEKDAYS.index(str(d).lower()[:3]) for d in weekdays),
        name=s.name,
        description=s.description,
    )
    if campaign.multiplier == ONE and campaign.points == 0:
        raise c.fail(key, "a campaign needs a multiplier other than 1 or some points")
    return campaign


def _cap(c: _Check, s: RuleSpec, key: str, ids: set[str]) -> Cap:
    o = s.options
    rules = o.get("rules") or []
    if not isinstance(rules, list) or any(str(r) not in ids | {"per_amount"} for r in rules):
        raise c.fail(f"{key}.rules", "must list ids of rules in program.earn.rules (empty: every order award)")
    return Cap(
        id=s.id,
        period=c.choice(o.get("period"), f"{key}.period", PERIODS),
        max_points=c.integer(o.get("max_points"), f"{key}.max_points", 0),
        rule_ids=frozenset(str(r) for r in rules),
        name=s.name,
        description=s.description,
    )


class _Check:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, reason: str) -> ConfigError:
        return ConfigError(self.source, key, reason)

    def mapping(self, value: Any, key: str, *, allowed: Iterable[str] | None = None) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, "must be a mapping")
        known = set(allowed) if allowed is not None else set(value)
        for name in value:
            if name not in known:
                raise ConfigError.unknown_key(self.source, f"{key}.{name}", known)
        return value

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value.strip()

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def integer(self, value: Any, key: str, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, "must be a whole number")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be at least {minimum}")
        return value

    def decimal(self, value: Any, key: str, minimum: Decimal | None = None) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise self.fail(key, "must be a number")
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise self.fail(key, f"not a number: {value!r}") from exc
        if not number.is_finite() or (minimum is not None and number < minimum):
            raise self.fail(key, f"must be a number of at least {minimum}" if minimum is not None else "not finite")
        return number

    def choice(self, value: Any, key: str, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}")
        return str(value)

    def moment(self, value: Any, key: str, zone: tzinfo) -> datetime | None:
        """An ISO date-time (or YAML timestamp); without an offset it is read in the program's zone."""
        if value is None:
            return None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime(value.year, value.month, value.day, tzinfo=zone)
        else:
            try:
                moment = datetime.fromisoformat(str(value))
            except ValueError as exc:
                raise self.fail(key, f"not an ISO date-time: {value!r}") from exc
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)

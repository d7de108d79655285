"""The program's active rules in shopper-facing words ("ways to earn"): id, title, description, points.

``points`` is a whole number for fixed bonuses, the rate (as a string, it may be a fraction) for amount rules,
and None where the rule changes other rules' points (multipliers, campaigns that multiply).

``title`` and ``description`` are English (the admin API reads them). Where the bridge wrote them (the owner gave
no ``name``/``description``), ``i18n`` says the same as data for the widget to say in the shopper's language:
``{"title": <message key>, "description": <message key>, "vars": {...}}``, the keys being those of
``widgets/i18n/<lang>.json``. Vars: ``points``, ``multiplier``, ``every``, ``nth``, ``days`` (numbers), ``amount``
and ``minimum`` (money in the shop's currency, decimal strings), ``until`` (ISO time), ``weekdays`` (0 = Monday),
``what`` (the owner's category, product or SKU names).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bridge.rules.base import in_segments
from bridge.rules.bonuses import FirstOrderRule, NthOrderRule
from bridge.rules.campaign import WEEKDAYS
from bridge.rules.engine import RuleSet, rule_segments
from bridge.rules.per_amount import PerAmountRule, plain_number


def ways_to_earn(rules: RuleSet, currency: str, member_segments: frozenset[str] | None = None) -> list[dict[str, Any]]:
    """Every active rule (the owner's view: a rule for some segments says which, ``segments``), or with
    ``member_segments`` the shopper's view: only the rules for this member, and never a segment's name (a shopper
    is not told they are "at risk")."""
    ways: list[dict[str, Any]] = []

    def add(
        rule_id: str,
        texts: tuple[str, str, str, str],  # (owner's name, our title, owner's description, our description)
        keys: tuple[str, str],  # message keys of our title and description
        points: Any,
        variables: dict[str, Any],
    ) -> None:
        name, title, own_text, text = texts
        way = {"id": rule_id, "title": name or title, "description": own_text or text, "points": points}
        generated = {"title": None if name else keys[0], "description": None if own_text else keys[1]}
        if any(generated.values()):
            way["i18n"] = {**generated, "vars": variables}
        ways.append(way)

    for signup in rules.signup_rules:
        points = getattr(signup, "points", None)
        texts = (
            getattr(signup, "name", ""),
            "Create an account",
            getattr(signup, "description", ""),
            "Points for joining the club",
        )
        add(signup.id, texts, ("way_signup", "way_signup_text"), points, {"points": points})
    for rule in rules.order_rules:
        if isinstance(rule, PerAmountRule):
            add(
                rule.id,
                (rule.name, "Shop with us", rule.description, _per_amount_text(rule, currency)),
                ("way_shop", "way_per_amount_min" if rule.minimum_amount else "way_per_amount"),
                str(plain_number(rule.rate)),
                {
                    "points": _number(rule.points_per_unit),
                    "amount": str(plain_number(rule.per)),
                    "minimum": str(plain_number(rule.minimum_amount)),
                },
            )
        elif isinstance(rule, FirstOrderRule):
            texts = (rule.name, "Your first order", rule.description, "A bonus on your first order")
            add(rule.id, texts, ("way_first_order", "way_first_order_text"), rule.points, {"points": rule.points})
        elif isinstance(rule, NthOrderRule):
            key = "way_every_nth_text" if rule.every else "way_nth_text"
            add(
                rule.id,
                (rule.name, "Come back", rule.description, _nth_text(rule)),
                ("way_come_back", key + ("_within" if rule.within_days else "")),
                rule.points,
                {"points": rule.points, "every": rule.every, "nth": rule.nth, "days": rule.within_days},
            )
        else:  # a custom rule: it describes itself, or is listed by its id (the owner's words, not translated)
            name = str(getattr(rule, "name", "") or rule.id)
            ways.append(
                {
                    "id": rule.id,
                    "title": name,
                    "description": str(getattr(rule, "description", "")),
                    "points": getattr(rule, "points", None),
                }
            )
    for line in rules.line_rules:
        if line.multiplier > 1:
            what = ", ".join(sorted(line.categories | line.products | line.skus))
            multiplier = plain_number(line.multiplier)
            add(
                line.id,
                (line.name, f"{multiplier}x points", line.description, f"{multiplier}x points on {what}"),
                ("way_multiplier", "way_multiplier_text"),
                None,
                {"multiplier": _number(line.multiplier), "what": what},
            )
    for campaign in rules.campaigns:
        days = ", ".join(WEEKDAYS[d] for d in sorted(campaign.weekdays))
        parts = [f"{plain_number(campaign.multiplier)}x points" if campaign.multiplier != 1 else ""]
        parts.append(f"{campaign.points} bonus points" if campaign.points else "")
        when = [f"until {campaign.ends:%Y-%m-%d %H:%M}" if campaign.ends else "", f"on {days}" if days else ""]
        add(
            campaign.id,
            (campaign.name, "Special offer", campaign.description, " ".join(p for p in [*parts, *when] if p)),
            ("way_campaign", "way_campaign_text"),
            campaign.points or None,
            {
                "multiplier": _number(campaign.multiplier) if campaign.multiplier != 1 else None,
                "points": campaign.points or None,
                "until": campaign.ends.isoformat() if campaign.ends else None,
                "weekdays": sorted(campaign.weekdays),
            },
        )
    for bday in rules.birthday_rules:
        texts = (bday.name, "Your birthday", bday.description, "Bonus points on your birthday")
        add(bday.id, texts, ("way_birthday", "way_birthday_text"), bday.points, {"points": bday.points})
    return _for_segments(rules, ways, member_segments)


def _for_segments(
    rules: RuleSet, ways: list[dict[str, Any]], member_segments: frozenset[str] | None
) -> list[dict[str, Any]]:
    """Issue 16: the owner sees each rule's ``segments``; a shopper sees only the rules meant for them."""
    described: tuple[Any, ...] = (*rules.order_rules, *rules.line_rules, *rules.campaigns, *rules.birthday_rules)
    by_id = {str(rule.id): segments for rule in described if (segments := rule_segments(rule))}
    if not by_id:
        return ways
    if member_segments is None:
        return [{**way, "segments": sorted(by_id[way["id"]])} if way["id"] in by_id else way for way in ways]
    return [way for way in ways if in_segments(by_id.get(way["id"], frozenset()), member_segments)]


def _number(value: Decimal) -> int | float:
    """A rule's number as JSON: a whole number stays one, a fraction (1.5x) becomes a float (display only)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _per_amount_text(rule: PerAmountRule, currency: str) -> str:
    points = f"{plain_number(rule.points_per_unit)} point{'' if rule.points_per_unit == 1 else 's'}"
    per = currency if rule.per == 1 else f"{plain_number(rule.per)} {currency}"
    text = f"{points} for every {per} spent"
    if rule.minimum_amount:
        text += f" on orders of {plain_number(rule.minimum_amount)} {currency} or more"
    return text


def _nth_text(rule: NthOrderRule) -> str:
    if rule.every:
        text = f"A bonus on every {_ordinal(rule.every)} order"
    else:
        text = f"A bonus on your {_ordinal(rule.nth or 0)} order"
    return text + (f" within {rule.within_days} days of the previous one" if rule.within_days else "")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"

"""The program's active rules in shopper-facing words ("ways to earn"): id, title, description, points.

``points`` is a whole number for fixed bonuses, the rate (as a string, it may be a fraction) for amount rules,
and None where the rule changes other rules' points (multipliers, campaigns that multiply).
"""

from __future__ import annotations

from typing import Any

from bridge.rules.bonuses import FirstOrderRule, NthOrderRule
from bridge.rules.campaign import WEEKDAYS
from bridge.rules.engine import RuleSet
from bridge.rules.per_amount import PerAmountRule, plain_number


def ways_to_earn(rules: RuleSet, currency: str) -> list[dict[str, Any]]:
    ways: list[dict[str, Any]] = []

    def add(rule_id: str, name: str, title: str, description: str, points: Any) -> None:
        ways.append({"id": rule_id, "title": name or title, "description": description, "points": points})

    for signup in rules.signup_rules:
        points = getattr(signup, "points", None)
        add(signup.id, getattr(signup, "name", ""), "Create an account", "Points for joining the club", points)
    for rule in rules.order_rules:
        if isinstance(rule, PerAmountRule):
            points = f"{plain_number(rule.points_per_unit)} point{'' if rule.points_per_unit == 1 else 's'}"
            per = currency if rule.per == 1 else f"{plain_number(rule.per)} {currency}"
            text = f"{points} for every {per} spent"
            if rule.minimum_amount:
                text += f" on orders of {plain_number(rule.minimum_amount)} {currency} or more"
            add(rule.id, rule.name, "Shop with us", rule.description or text, str(plain_number(rule.rate)))
        elif isinstance(rule, FirstOrderRule):
            add(rule.id, rule.name, "Your first order", rule.description or "A bonus on your first order", rule.points)
        elif isinstance(rule, NthOrderRule):
            add(rule.id, rule.name, "Come back", rule.description or _nth_text(rule), rule.points)
        else:  # a custom rule: it describes itself, or is listed by its id
            name = str(getattr(rule, "name", "") or rule.id)
            add(rule.id, name, name, str(getattr(rule, "description", "")), getattr(rule, "points", None))
    for line in rules.line_rules:
        if line.multiplier > 1:
            what = ", ".join(sorted(line.categories | line.products | line.skus))
            text = line.description or f"{plain_number(line.multiplier)}x points on {what}"
            add(line.id, line.name, f"{plain_number(line.multiplier)}x points", text, None)
    for campaign in rules.campaigns:
        days = ", ".join(WEEKDAYS[d] for d in sorted(campaign.weekdays))
        parts = [f"{plain_number(campaign.multiplier)}x points" if campaign.multiplier != 1 else ""]
        parts.append(f"{campaign.points} bonus points" if campaign.points else "")
        when = [f"until {campaign.ends:%Y-%m-%d %H:%M}" if campaign.ends else "", f"on {days}" if days else ""]
        text = campaign.description or " ".join(p for p in [*parts, *when] if p)
        add(campaign.id, campaign.name, "Special offer", text, campaign.points or None)
    for bday in rules.birthday_rules:
        add(bday.id, bday.name, "Your birthday", "Bonus points on your birthday", bday.points)
    return ways


def _nth_text(rule: NthOrderRule) -> str:
    if rule.every:
        text = f"A bonus on every {_ordinal(rule.every)} order"
    else:
        text = f"A bonus on your {_ordinal(rule.nth or 0)} order"
    return text + (f" within {rule.within_days} days of the previous one" if rule.within_days else "")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"

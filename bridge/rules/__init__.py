"""Earning rules: pure functions over normalised orders and customers -> awards. No DB, no Flask, no HTTP."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from bridge.rules.base import Award, MemberContext, OrderContext
from bridge.rules.engine import (
    Evaluation,
    RuleOutcome,
    RuleSet,
    evaluate_birthday,
    evaluate_order,
    evaluate_signup,
    explain_order,
)

if TYPE_CHECKING:  # bridge.config imports bridge.rules.config: no runtime import back
    from bridge.config import ProgramSettings

__all__ = [
    "Award",
    "Evaluation",
    "MemberContext",
    "OrderContext",
    "RuleOutcome",
    "RuleSet",
    "build_rules",
    "evaluate_birthday",
    "evaluate_order",
    "evaluate_signup",
    "explain_order",
]


def build_rules(program: ProgramSettings) -> RuleSet:
    """The program's rules from its settings."""
    from bridge.rules.config import build_rule_set

    earn = program.earn
    earning = program.earning
    if program.tiers is not None:  # issue 16: a tier's multiplier is its level's
        earning = dataclasses.replace(earning, tier_multipliers=program.tiers.multipliers())
    return build_rule_set(
        earning,
        points_per_currency_unit=earn.points_per_currency_unit,
        signup_points=earn.signup_points,
        rounding=earn.rounding,
    )

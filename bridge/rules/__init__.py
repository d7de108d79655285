"""Earning rules: pure functions over normalised orders and customers -> awards. No DB, no Flask, no HTTP."""

from __future__ import annotations

from bridge.config import ProgramSettings
from bridge.connectors.base import ShopCustomer, ShopOrder
from bridge.rules.base import Award, OrderContext, RuleSet
from bridge.rules.per_amount import PerAmountRule
from bridge.rules.signup import SignupBonusRule

__all__ = ["Award", "OrderContext", "RuleSet", "build_rules", "evaluate_order", "evaluate_signup"]


def build_rules(program: ProgramSettings) -> RuleSet:
    """The program's rules from its settings."""
    earn = program.earn
    return RuleSet(
        order_rules=(PerAmountRule("per_amount", earn.points_per_currency_unit, earn.rounding),),
        signup_rules=(SignupBonusRule("signup", earn.signup_points),),
    )


def evaluate_order(order: ShopOrder, rules: RuleSet, ctx: OrderContext) -> list[Award]:
    """Awards for a paid order, one per rule that grants anything."""
    awards = (rule.award_for_order(order, ctx) for rule in rules.order_rules)
    return [a for a in awards if a is not None]


def evaluate_signup(customer: ShopCustomer, rules: RuleSet) -> list[Award]:
    awards = (rule.award_for_signup(customer) for rule in rules.signup_rules)
    return [a for a in awards if a is not None]

"""per_amount and the line multipliers/exclusions that weight it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bridge.errors import ConfigError
from bridge.rules import evaluate_order, explain_order
from tests.unit.rules.builders import ctx, line, order, rules


def points(o, rs, c=None) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {a.rule_id: a.points for a in evaluate_order(o, rs, c or ctx())}


def test_the_shorthand_keys_still_make_the_per_amount_and_signup_rules() -> None:
    rs = rules(ppcu="2", earn={"signup_points": 50})
    assert points(order(line(total="12.50")), rs) == {"per_amount": 25}
    assert [r.id for r in rs.signup_rules] == ["signup"]


def test_ratio_form_one_point_per_ten_units_rounds_down_once() -> None:
    rs = rules([{"id": "base", "type": "per_amount", "points": 1, "per": 10}])
    assert points(order(line(total="39.99")), rs) == {"base": 3}
    assert "per_amount" not in {r.id for r in rs.order_rules}  # an explicit rule replaces the shorthand


@pytest.mark.parametrize(("mode", "expected"), [("down", 3), ("nearest", 4), ("up", 4)])
def test_rounding_modes(mode: str, expected: int) -> None:
    rs = rules([{"id": "base", "type": "per_amount", "points": 1, "per": 10, "rounding": mode}])
    assert points(order(line(total="35.00")), rs) == {"base": expected}


def test_rounding_is_applied_once_per_award_not_per_line() -> None:
    rs = rules([{"id": "base", "type": "per_amount", "points": 1, "per": 10}])
    three_lines = order(line("1", "6.00"), line("2", "6.00"), line("3", "6.00"))  # 0.6 each, 1.8 in all
    assert points(three_lines, rs) == {"base": 1}


def test_base_includes_tax_shipping_and_fees_only_when_asked() -> None:
    o = order(line(total="100.00", tax="10.00"), shipping="10.00", fees="5.00", tax="12.00")
    assert points(o, rules([{"id": "b", "type": "per_amount"}])) == {"b": 100}
    assert points(o, rules([{"id": "b", "type": "per_amount", "include_tax": True}])) == {"b": 110}
    assert points(o, rules([{"id": "b", "type": "per_amount", "include_shipping": True}])) == {"b": 110}
    everything = {"id": "b", "type": "per_amount", "include_tax": True, "include_shipping": True, "include_fees": True}
    assert points(o, rules([everything])) == {"b": 127}  # 100 + 10 tax + 10 shipping + 5 fees + 2 shipping tax


def test_minimum_amount_is_checked_on_the_unweighted_base() -> None:
    rs = rules(
        [
            {"id": "b", "type": "per_amount", "minimum_amount": 20},
            {"id": "gift", "type": "exclusion", "skus": ["GIFT"]},
        ]
    )
    assert points(order(line(total="19.99")), rs) == {}
    assert points(order(line(total="15.00", sku="GIFT"), line("11", "10.00")), rs) == {"b": 10}


def test_category_multiplier_and_exclusion_weight_the_lines() -> None:
    rs = rules(
        [
            {"id": "b", "type": "per_amount"},
            {"id": "coffee2x", "type": "multiplier", "categories": ["Coffee"], "multiplier": 2},
            {"id": "no-gift-cards", "type": "exclusion", "categories": ["gift-cards"], "products": ["99"]},
        ]
    )
    categories = {"10": ("coffee",), "20": ("tea",), "30": ("gift-cards", "coffee")}
    o = order(line("10", "10.00"), line("20", "10.00"), line("30", "50.00"), line("99", "7.00"))
    evaluation = explain_order(o, rs, ctx(categories=categories))
    assert evaluation.points == 30  # 2 x 10 coffee + 10 tea; the gift card (also coffee) and product 99 excluded
    assert evaluation.awards[0].detail["line_rules"] == ["coffee2x", "no-gift-cards"]
    assert rs.needs_categories


def test_the_highest_multiplier_wins_when_several_match() -> None:
    rs = rules(
        [
            {"id": "by-sku", "type": "multiplier", "skus": ["BEAN"], "multiplier": 3},
            {"id": "by-product", "type": "multiplier", "products": ["10"], "multiplier": "1.5"},
        ]
    )
    assert points(order(line("10", "10.00", sku="BEAN")), rs) == {"per_amount": 30}
    assert not rs.needs_categories


def test_a_tier_multiplier_applies_to_amount_rules_only() -> None:
    rs = rules(
        [{"id": "first", "type": "first_order", "points": 100}],
        earn={"tier_multipliers": {"gold": "1.5"}},
    )
    assert points(order(line(total="10.00")), rs, ctx(tier="gold")) == {"per_amount": 15, "first": 100}
    assert points(order(line(total="10.00")), rs, ctx(tier="bronze")) == {"per_amount": 10, "first": 100}
    assert points(order(line(total="10.00")), rs, ctx(tier=None)) == {"per_amount": 10, "first": 100}


def test_bad_rule_options_stop_the_config_with_the_key() -> None:
    with pytest.raises(ConfigError, match=r"rules\[b\]\.per"):
        rules([{"id": "b", "type": "per_amount", "per": 0}])
    with pytest.raises(ConfigError, match="needs at least one of"):
        rules([{"id": "m", "type": "multiplier", "multiplier": 2}])
    with pytest.raises(ConfigError, match="duplicate"):
        rules([{"id": "a", "type": "first_order", "points": 1}, {"id": "a", "type": "first_order", "points": 2}])
    with pytest.raises(ConfigError, match="no rule type"):
        rules([{"id": "x", "type": "no-such-type"}])
    assert Decimal(1) == rules().order_rules[0].points_per_unit  # type: ignore[attr-defined]


def test_disabled_rules_do_nothing() -> None:
    rs = rules([{"id": "first", "type": "first_order", "points": 100, "enabled": False}])
    assert points(order(), rs) == {"per_amount": 10}

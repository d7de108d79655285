"""First order, n-th order, campaigns, caps, membership, signup and birthday; and the order of application."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bridge.rules import evaluate_birthday, evaluate_order, evaluate_signup, explain_order
from bridge.rules.base import MemberContext
from bridge.rules.caps import Cap
from tests.unit.rules.builders import PAID_AT, ctx, line, order, rules


def points(o, rs, c=None) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {a.rule_id: a.points for a in evaluate_order(o, rs, c or ctx())}


def test_first_order_bonus_only_on_the_first_paid_order() -> None:
    rs = rules([{"id": "welcome", "type": "first_order", "points": 100}])
    assert points(order(), rs, ctx(paid_orders_before=0)) == {"per_amount": 10, "welcome": 100}
    assert points(order(), rs, ctx(paid_orders_before=1)) == {"per_amount": 10}


def test_every_third_order_bonus() -> None:
    rs = rules([{"id": "third", "type": "nth_order", "every": 3, "points": 30}], ppcu=0)
    earned = [points(order(), rs, ctx(paid_orders_before=n)).get("third", 0) for n in range(7)]
    assert earned == [0, 0, 30, 0, 0, 30, 0]


def test_second_order_within_sixty_days() -> None:
    rs = rules([{"id": "back", "type": "nth_order", "nth": 2, "within_days": 60, "points": 25}], ppcu=0)
    soon = ctx(paid_orders_before=1, previous_order_at=PAID_AT - timedelta(days=59))
    late = ctx(paid_orders_before=1, previous_order_at=PAID_AT - timedelta(days=61))
    third = ctx(paid_orders_before=2, previous_order_at=PAID_AT - timedelta(days=1))
    assert points(order(), rs, soon) == {"back": 25}
    assert points(order(), rs, late) == {}
    assert points(order(), rs, third) == {}


WEEKEND = {"id": "weekend", "type": "campaign", "multiplier": 2, "weekdays": ["sat", "sun"]}


def test_a_weekend_campaign_is_read_in_the_programs_time_zone() -> None:
    rs = rules([WEEKEND], timezone="Pacific/Auckland")
    friday_utc_saturday_auckland = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # Sat 01:00 in Auckland
    assert points(order(), rs, ctx(at=friday_utc_saturday_auckland)) == {"per_amount": 20}
    assert points(order(), rules([WEEKEND]), ctx(at=friday_utc_saturday_auckland)) == {"per_amount": 10}


def test_campaign_window_is_start_inclusive_end_exclusive_with_a_fixed_bonus() -> None:
    campaign = {"id": "bf", "type": "campaign", "points": 50, "starts": "2026-11-27T00:00", "ends": "2026-11-30"}
    rs = rules([campaign], timezone="Europe/Berlin")
    start = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)  # midnight in Berlin
    assert points(order(), rs, ctx(at=start)) == {"per_amount": 10, "bf": 50}
    assert points(order(), rs, ctx(at=start - timedelta(seconds=1))) == {"per_amount": 10}
    assert points(order(), rs, ctx(at=datetime(2026, 11, 29, 23, 0, tzinfo=UTC))) == {"per_amount": 10}


def test_campaign_and_tier_multiply_before_the_single_rounding() -> None:
    rs = rules([WEEKEND | {"weekdays": []}], earn={"tier_multipliers": {"gold": "1.25"}})
    evaluation = explain_order(order(line(total="10.10")), rs, ctx(tier="gold"))
    assert evaluation.points == 25  # 10.10 x 2 x 1.25 = 25.25, rounded down once
    assert evaluation.awards[0].detail["boosts"] == {"campaign:weekend": "2", "tier:gold": "1.25"}


CAPS: list[dict[str, Any]] = [
    {"id": "first", "type": "first_order", "points": 100},
    {"id": "day", "type": "cap", "period": "day", "max_points": 120},
    {"id": "first-cap", "type": "cap", "period": "year", "max_points": 60, "rules": ["first"]},
]


def test_caps_cut_awards_in_order_per_rule_first_then_overall() -> None:
    rs = rules(CAPS)
    evaluation = explain_order(order(line(total="100.00")), rs, ctx())
    assert {a.rule_id: a.points for a in evaluation.awards} == {"per_amount": 100, "first": 20}
    first = next(o for o in evaluation.outcomes if o.rule_id == "first")
    assert first.caps_hit == ("first-cap", "day")


def test_caps_count_what_the_member_already_earned_in_the_window() -> None:
    rs = rules(CAPS)
    assert points(order(line(total="100.00")), rs, ctx(earned={"day": 115})) == {"per_amount": 5}
    assert points(order(line(total="100.00")), rs, ctx(earned={"day": 500})) == {}


@pytest.mark.parametrize(
    ("period", "start"),
    [
        ("day", datetime(2026, 11, 25, 5, 0, tzinfo=UTC)),
        ("week", datetime(2026, 11, 23, 5, 0, tzinfo=UTC)),
        ("month", datetime(2026, 11, 1, 4, 0, tzinfo=UTC)),  # EDT ends 1 November 06:00 UTC: start at 04:00
        ("year", datetime(2026, 1, 1, 5, 0, tzinfo=UTC)),
    ],
)
def test_cap_windows_start_at_local_midnight(period: str, start: datetime) -> None:
    rs = rules(timezone="America/New_York")
    assert Cap("c", period, 1).window_start(PAID_AT, rs.timezone) == start


def test_closed_membership_rewards_from_the_qualifying_order_on() -> None:
    rs = rules(membership={"policy": "closed", "qualifying_total": 50})
    small = explain_order(order(line(total="49.00")), rs, ctx(joined=False))
    assert small.points == 0 and not small.admitted
    big = explain_order(order(line(total="60.00")), rs, ctx(joined=False))
    assert big.points == 60 and big.joins
    assert explain_order(order(line(total="5.00")), rs, ctx(joined=True)).points == 5
    assert evaluate_signup(None, rs, MemberContext(joined=False)) == []  # type: ignore[arg-type]


def test_invite_only_rewards_invited_members_only() -> None:
    rs = rules(membership={"policy": "invite_only"}, earn={"signup_points": 50})
    assert explain_order(order(), rs, ctx(joined=False)).points == 0
    assert explain_order(order(), rs, ctx(joined=True)).points == 10
    assert evaluate_birthday(rs, MemberContext(joined=False, birthday=date(1990, 5, 1)), date(2026, 5, 1)) == []


def test_birthday_bonus_on_the_day_and_leap_day_on_the_28th() -> None:
    rs = rules([{"id": "bday", "type": "birthday", "points": 75}])
    member = MemberContext(birthday=date(1992, 2, 29))
    assert [a.points for a in evaluate_birthday(rs, member, date(2027, 2, 28))] == [75]
    assert evaluate_birthday(rs, member, date(2028, 2, 28)) == []
    assert [a.points for a in evaluate_birthday(rs, member, date(2028, 2, 29))] == [75]
    assert evaluate_birthday(rs, MemberContext(), date(2028, 2, 29)) == []


def test_explain_lists_every_rule_including_those_that_did_not_apply() -> None:
    rs = rules([{"id": "welcome", "type": "first_order", "points": 100}, WEEKEND])
    explained = explain_order(order(), rs, ctx(paid_orders_before=3)).as_dict()
    assert [(r["rule_id"], r["points"]) for r in explained["rules"]] == [("per_amount", 10), ("welcome", 0)]
    assert explained["points"] == 10


def test_the_documented_order_of_application_in_one_order() -> None:
    rs = rules(
        [
            {"id": "base", "type": "per_amount", "points": 1, "per": 2},
            {"id": "coffee", "type": "multiplier", "categories": ["coffee"], "multiplier": 3},
            {"id": "no-gift", "type": "exclusion", "skus": ["GIFT"]},
            {"id": "welcome", "type": "first_order", "points": 40},
            {"id": "all-week", "type": "campaign", "multiplier": 2, "points": 5},
            {"id": "welcome-cap", "type": "cap", "period": "year", "max_points": 30, "rules": ["welcome"]},
            {"id": "daily", "type": "cap", "period": "day", "max_points": 100},
        ],
        earn={"tier_multipliers": {"gold": "1.5"}},
    )
    o = order(line("1", "10.00"), line("2", "5.00", sku="GIFT"), line("3", "3.00"))
    evaluation = explain_order(o, rs, ctx(categories={"1": ("coffee",)}, tier="gold", earned={"daily": 20}))
    # 2. weights: 10.00 x 3 + 0 (excluded) + 3.00 = 33.00;  3. x 1/2 x 2 (campaign) x 1.5 (gold) = 49.5 -> 49
    # 4. welcome 40, campaign points 5 (no tier);  5. welcome cut to 30 by its cap, then the daily cap (100 - 20
    # already earned = 80) leaves 49 + 30 = 79 and 1 of the campaign's 5
    assert [(a.rule_id, a.points) for a in evaluation.awards] == [("base", 49), ("welcome", 30), ("all-week", 1)]
    caps = {o.rule_id: o.caps_hit for o in evaluation.outcomes}
    assert caps == {"base": (), "welcome": ("welcome-cap",), "all-week": ("daily",)}

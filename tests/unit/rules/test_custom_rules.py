"""A rule type added through the ``bridge.rules`` entry point group, from a real installed distribution."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.rules import evaluate_order
from tests.unit.rules.builders import ctx, line, order, rules

PLUGIN = """
from dataclasses import dataclass
from bridge.rules.base import Award

@dataclass(frozen=True)
class CouponFree:
    id: str
    points: int

    def award_for_order(self, order, ctx):
        if order.coupon_codes:
            return None
        return Award(self.id, self.points, "no coupon used")

def make_rule(rule_id, options):
    return CouponFree(rule_id, int(options["points"]))
"""


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    (tmp_path / "club_plugin.py").write_text(PLUGIN)
    dist = tmp_path / "club_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: club-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[bridge.rules]\ncoupon_free = club_plugin:make_rule\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield
    sys.modules.pop("club_plugin", None)


@pytest.mark.usefixtures("installed_plugin")
def test_a_custom_rule_type_from_an_entry_point_earns_like_a_bonus() -> None:
    by_name = rules([{"id": "loyal", "type": "coupon_free", "points": 15}])
    by_custom = rules([{"id": "loyal", "type": "custom", "entry_point": "coupon_free", "options": {"points": 15}}])
    for rs in (by_name, by_custom):
        assert {a.rule_id: a.points for a in evaluate_order(order(), rs, ctx())} == {"per_amount": 10, "loyal": 15}
    with_coupon = order(line(), coupon_codes=("x",))
    assert {a.rule_id for a in evaluate_order(with_coupon, by_name, ctx())} == {"per_amount"}

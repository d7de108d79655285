"""Custom rule types from other packages, through the ``bridge.rules`` entry point group.

A package adds a rule type by declaring, in its ``pyproject.toml``::

    [project.entry-points."bridge.rules"]
    my_rule = "my_package.rules:make_rule"

``make_rule(rule_id: str, options: dict) -> rule`` returns an object with an ``id`` and a pure
``award_for_order(order: ShopOrder, ctx: OrderContext) -> Award | None``; a config entry with
``type: custom, entry_point: my_rule, options: {...}`` (or simply ``type: my_rule``) uses it. Custom awards are
fixed bonuses in the order of application: after the amount rules, before caps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any

from bridge.rules.base import OrderRule

GROUP = "bridge.rules"

RuleFactory = Callable[[str, Mapping[str, Any]], OrderRule]


def available() -> dict[str, RuleFactory]:
    """The installed custom rule types by name (read each time: cheap, and only at start)."""
    return {ep.name: ep.load() for ep in entry_points(group=GROUP)}


def make(name: str, rule_id: str, options: Mapping[str, Any]) -> OrderRule:
    factories = available()
    if name not in factories:
        raise LookupError(f"no rule type {name!r} in entry point group {GROUP!r} (installed: {sorted(factories)})")
    rule = factories[name](rule_id, dict(options))
    if not callable(getattr(rule, "award_for_order", None)):
        raise TypeError(f"rule type {name!r} returned an object without award_for_order()")
    return rule

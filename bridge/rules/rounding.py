"""Turning a Decimal into whole points, once per award, in the program's rounding mode."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

_MODES = {"down": ROUND_FLOOR, "nearest": ROUND_HALF_UP, "up": ROUND_CEILING}


def to_points(value: Decimal, mode: str = "down") -> int:
    return int(value.to_integral_value(rounding=_MODES[mode]))

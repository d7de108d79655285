"""Coupon codes: from a CSPRNG, lower-case (the shop lower-cases codes anyway), nothing to misread."""

from __future__ import annotations

import secrets

ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
"""No 0/o, 1/l/i: a code read aloud or typed from a screenshot goes in right the first time. 31 symbols:
12 of them are 59 bits, far beyond guessing through a shop's coupon form."""


def new_code(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(length))


MIN_RANDOM_LENGTH = 10
"""``program.redemption.code_length`` is at least this: every code we ever issued ends with this many symbols
of ``ALPHABET``, whatever prefix or length the program used at the time."""


def could_be_ours(code: str) -> bool:
    """False for a code we cannot have issued (the shop's own coupons): the order observer then skips the lookup."""
    tail = code[-MIN_RANDOM_LENGTH:]
    return len(tail) == MIN_RANDOM_LENGTH and all(ch in ALPHABET for ch in tail)

"""Referral codes: short, readable, case-insensitive, from a CSPRNG."""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed without mistakes
VANITY = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,30}[A-Z0-9]$")


def generate(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize(code: str) -> str:
    """Codes are matched case-insensitively and without surrounding spaces."""
    return code.strip().upper()


def valid_vanity(code: str) -> bool:
    return bool(VANITY.match(normalize(code)))

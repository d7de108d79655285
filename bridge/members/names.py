"""Members' display names: cleaned, ranked by who vouches for them, and folded into search words.

Pure (standard library only): the storage side is ``bridge/storage/member_names.py``, the capture
``bridge/members/name_capture.py``.

Where a name comes from, and which one wins (issue 15):

* ``account``: the first/last name of the shop's customer resource (``customer.created``/``updated``, the customer
  backfill). The account holder's own name: it beats any order's billing name, whatever their dates.
* ``billing``: an order's billing first/last name; used for guests, and for an account while its customer resource
  has given no name. Anyone can type anything in a billing form, so it never replaces an account's name.
* Within one source, a newer snapshot (by the shop's ``date_modified``) replaces an older one, never an older one a
  newer: deliveries arrive out of order and replays repeat old ones. A snapshot without a date replaces only a name
  that had none either. An empty name (both parts blank) is no name: it never clears one we hold.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

MAX_NAME = 200  # characters (code points) of the display name, on SQLite and PostgreSQL alike
MAX_WORD = 64  # a search word is cut to this (a prefix of a longer word still finds it)
MAX_WORDS = 8  # search words kept per name
MAX_QUERY_WORDS = 3  # words of a search box's text that must each prefix a word of the name

ACCOUNT = "account"
BILLING = "billing"
_RANK = {BILLING: 1, ACCOUNT: 2}

# Arabic and Persian keyboards give different code points for the same letters: fold to the Persian forms, so
# "علی" (Persian yeh) finds "علي" (Arabic yeh), and "کریم" finds "كريم".
_FOLD = str.maketrans(
    {
        "\u064a": "\u06cc",  # ARABIC LETTER YEH -> FARSI YEH
        "\u0649": "\u06cc",  # ARABIC LETTER ALEF MAKSURA -> FARSI YEH
        "\u0643": "\u06a9",  # ARABIC LETTER KAF -> KEHEH
        "\u0629": "\u0647",  # TEH MARBUTA -> HEH
        "\u0640": None,  # TATWEEL (a stretch, not a letter)
        "\u200c": " ",  # ZERO WIDTH NON-JOINER: "محمد‌علی" is two searchable words
    }
)
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670]")  # harakat and the superscript alef: optional vowel signs
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015.,;:/()\[\]\"]+")
# Bidirectional overrides and isolates can make a shown name lie about its letters' order: never kept.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


@dataclass(frozen=True)
class NameSnapshot:
    """A name as one delivery told it."""

    display_name: str  # cleaned (``clean``); "" when the delivery carried none
    source: str  # ACCOUNT or BILLING
    modified: datetime | None  # the shop's date_modified of the resource that carried it


def clean(first: str, last: str) -> str:
    """``first last``, control and bidi-override characters dropped, white space collapsed, trimmed, at most
    ``MAX_NAME`` characters."""
    text = f"{first} {last}"
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or (unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn") and ch not in _BIDI_CONTROLS)
    )
    return " ".join(kept.split())[:MAX_NAME].rstrip()


def fold(text: str) -> str:
    """The search form of a text: Unicode NFKC, case-folded, Arabic letter forms folded to Persian, vowel signs
    dropped."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    return _ARABIC_MARKS.sub("", folded)


def words(text: str, limit: int = MAX_WORDS) -> list[str]:
    """The distinct search words of a name (or a query), in order, each at most ``MAX_WORD`` characters."""
    out: list[str] = []
    for word in _SEPARATORS.split(fold(text)):
        word = word.strip("'`\u2019")[:MAX_WORD]
        if word and word not in out:
            out.append(word)
        if len(out) == limit:
            break
    return out


def replaces(new: NameSnapshot, held: NameSnapshot | None) -> bool:
    """Whether ``new`` should become the member's name, given the one ``held`` (the rules in the module doc)."""
    if not new.display_name:
        return False
    if held is None:
        return True
    if _RANK[new.source] != _RANK[held.source]:
        return _RANK[new.source] > _RANK[held.source]
    if held.modified is None:
        return new != held
    if new.modified is None:
        return False
    return new.modified > held.modified

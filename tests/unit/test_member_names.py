"""Members' names (issue 15), the pure part: what is kept of a name, how it is searched, which one wins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge.members.names import ACCOUNT, BILLING, MAX_NAME, NameSnapshot, clean, fold, replaces, words

T0 = datetime(2026, 11, 23, 22, 32, 53, tzinfo=UTC)


def test_a_name_is_trimmed_its_white_space_collapsed_and_controls_dropped() -> None:
    assert clean("  Carol\t", "\n Poe  ") == "Carol Poe"
    assert clean("Ca\x00r\x1bol", "P\x7foe") == "Carol Poe"
    # a right-to-left override would show "Poe" spelled backwards: dropped, the letters stay
    assert clean("\u202eCarol", "Poe\u2066") == "Carol Poe"
    assert clean("", "") == "" and clean("   ", "\t") == ""
    assert clean("", "Poe") == "Poe"


def test_a_long_name_is_cut_to_the_bound_without_a_trailing_space() -> None:
    name = clean("A" * 150, "B" * 150)
    assert len(name) == MAX_NAME and name == "A" * 150 + " " + "B" * 49
    assert clean("A" * (MAX_NAME - 1), "B") == "A" * (MAX_NAME - 1)  # the cut falls after the space: no space kept
    assert len(clean("ع" * 500, "")) == MAX_NAME  # characters, not bytes


def test_persian_and_arabic_letter_forms_fold_to_one_search_form() -> None:
    assert fold("علي") == fold("علی") == "علی"
    assert fold("كريم") == fold("کریم")
    assert fold("فاطمة") == fold("فاطمه")
    assert fold("مُحَمَّد") == fold("محمد")  # vowel signs are optional when typing
    assert fold("\uff23\uff21\uff32\uff2f\uff2c") == "carol"  # NFKC: full-width letters are the letters
    assert fold("Straße") == fold("STRASSE")


def test_the_search_words_of_a_name() -> None:
    assert words("Carol Poe") == ["carol", "poe"]
    assert words("Jean-Luc O'Neil  de la Tour") == ["jean", "luc", "o'neil", "de", "la", "tour"]
    assert words("محمد\u200cعلی رضایی") == ["محمد", "علی", "رضایی"]  # a non-joiner separates two words
    assert words("ann ANN Ann") == ["ann"]
    assert words("a b c d e f g h i j") == list("abcdefgh")  # bounded
    assert words("x" * 500) == ["x" * 64]
    assert words("", 3) == [] and words("- , .", 3) == []


def _snap(name: str, source: str, minutes: int | None) -> NameSnapshot:
    return NameSnapshot(name, source, None if minutes is None else T0 + timedelta(minutes=minutes))


@pytest.mark.parametrize(
    ("held", "offered", "wins"),
    [
        (None, _snap("Carol Poe", BILLING, 0), True),
        (None, _snap("", ACCOUNT, 0), False),  # an empty name is no name
        (_snap("Carol Poe", BILLING, 5), _snap("Carol Poe-Smith", ACCOUNT, 0), True),  # the account's beats billing
        (_snap("Carol Poe", ACCOUNT, 0), _snap("Mallory", BILLING, 9), False),  # whatever the dates
        (_snap("Carol Poe", ACCOUNT, 0), _snap("Carol Smith", ACCOUNT, 1), True),  # newer of one kind replaces
        (_snap("Carol Smith", ACCOUNT, 1), _snap("Carol Poe", ACCOUNT, 0), False),  # an older never a newer
        (_snap("Carol Smith", ACCOUNT, 1), _snap("Carol Other", ACCOUNT, 1), False),  # the same moment: kept
        (_snap("Dana", BILLING, 1), _snap("Dana Guest", BILLING, 2), True),
        (_snap("Dana", BILLING, 1), _snap("Dana Guest", BILLING, None), False),  # undated: cannot be newer
        (_snap("Dana", BILLING, None), _snap("Dana Guest", BILLING, 2), True),
        (_snap("Carol Poe", ACCOUNT, 3), _snap("", ACCOUNT, 4), False),  # a blanked name does not clear it
    ],
)
def test_which_name_wins(held: NameSnapshot | None, offered: NameSnapshot, wins: bool) -> None:
    assert replaces(offered, held) is wins

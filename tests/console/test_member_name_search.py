"""Search by name (issue 15's last gap): the console's search box and ``GET /admin/v1/members?q=`` find members by
the start of any word of their name, Persian and Arabic spellings alike, in keyset pages, on both databases."""

from __future__ import annotations

import html

import pytest

from bridge.console.routing import Role
from bridge.members import search
from bridge.storage import db
from bridge.sync.apply import apply_customers
from tests.console.conftest import Console
from tests.integration.conftest import BOTH_BACKENDS
from tests.support.client import SHOP, Bridge

ACCOUNTS = [  # customer id, first, last: members are created in this order (newest last)
    (101, "Carol", "Poe"),
    (102, "Caroline", "Smith"),
    (103, "Bob", "Carolson"),
    (104, "علي", "رضايي"),  # typed on an Arabic keyboard
    (105, "Zahra", "Karimi"),
    (106, "Jean-Luc", "Picard"),
]


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _seed(bridge: Bridge) -> dict[str, int]:
    """The accounts, imported as the customer backfill does; member id by first name."""
    rt = bridge.rt
    customers = [{"id": c, "email": f"c{c}@shop.test", "first_name": f, "last_name": la} for c, f, la in ACCOUNTS]
    with db.write(rt.engine) as conn:
        apply_customers(conn, rt.shop_context(SHOP), customers, award_signup=False)
    ids = {}
    for customer_id, first, _ in ACCOUNTS:
        member = bridge.member(f"c{customer_id}@shop.test")
        assert member is not None
        ids[first] = member["id"]
    return ids


def _found(bridge: Bridge, text: str, **query: object) -> list[int]:
    with db.read(bridge.rt.engine) as conn:
        wanted = search.MemberQuery(text=text, **query)  # type: ignore[arg-type]
        return [m["id"] for m in search.search(conn, bridge.rt.settings.program.id, wanted).members]


def test_a_name_is_found_by_the_start_of_any_of_its_words(bridge: Bridge) -> None:
    ids = _seed(bridge)
    assert _found(bridge, "car") == [ids["Bob"], ids["Caroline"], ids["Carol"]]  # newest first
    assert _found(bridge, "CAROL") == [ids["Bob"], ids["Caroline"], ids["Carol"]]
    assert _found(bridge, "poe") == [ids["Carol"]]  # a last name
    assert _found(bridge, "carol p") == [ids["Carol"]]  # every word must start a word of the name
    assert _found(bridge, "luc") == [ids["Jean-Luc"]]  # a hyphen parts words
    assert _found(bridge, "arol") == []  # the start of a word, not its middle
    assert _found(bridge, "c%") == [] and _found(bridge, "_arol") == []  # no wildcards
    assert _found(bridge, "car", tier="gold") == []  # filters still apply


def test_several_words_matching_too_many_members_to_list_are_walked_alike(
    bridge: Bridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _seed(bridge)
    listed = _found(bridge, "car s"), _found(bridge, "car s", before=ids["Caroline"])
    monkeypatch.setattr(search, "NAME_IDS_LISTED", 0)  # every several-word search now takes the walk
    assert (_found(bridge, "car s"), _found(bridge, "car s", before=ids["Caroline"])) == listed
    assert listed == ([ids["Caroline"]], [])


def test_persian_typing_finds_an_arabic_spelling(bridge: Bridge) -> None:
    ids = _seed(bridge)
    assert _found(bridge, "علی") == [ids["علي"]]  # Persian yeh finds the Arabic yeh
    assert _found(bridge, "رضا") == [ids["علي"]]  # a prefix of the last name
    assert _found(bridge, "علي رضایی") == [ids["علي"]]


def test_name_results_come_in_keyset_pages(bridge: Bridge) -> None:
    ids = _seed(bridge)
    with db.read(bridge.rt.engine) as conn:
        program_id = bridge.rt.settings.program.id
        first = search.search(conn, program_id, search.MemberQuery(text="car", limit=2))
        rest = search.search(conn, program_id, search.MemberQuery(text="car", limit=2, before=first.next_before))
    assert [m["id"] for m in first.members] == [ids["Bob"], ids["Caroline"]]
    assert [m["name"] for m in first.members] == ["Bob Carolson", "Caroline Smith"]
    assert [m["id"] for m in rest.members] == [ids["Carol"]] and rest.next_before is None


def test_an_id_is_not_a_name(bridge: Bridge) -> None:
    ids = _seed(bridge)
    assert _found(bridge, "101") == [ids["Carol"]]  # the customer id, not a name search
    assert _found(bridge, f"#{ids['Zahra']}") == [ids["Zahra"]]


def test_the_console_finds_a_member_by_name_and_shows_it(console: Console) -> None:
    ids = _seed(console.bridge)
    viewer = console.login_as(Role.VIEWER)
    response = viewer.get("/console/members", query_string={"q": "علی رضا"})
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "علي رضايي" in page and f"/console/members/{ids['علي']}" in page
    assert "Carol Poe" not in page
    member_page = html.unescape(viewer.get(f"/console/members/{ids['Carol']}").get_data(as_text=True))
    assert '<bdi class="name">Carol Poe</bdi>' in member_page


def test_the_admin_api_searches_by_name_in_pages(bridge: Bridge) -> None:
    ids = _seed(bridge)
    first = bridge.admin("GET", "/admin/v1/members", query_string={"q": "car", "limit": 2})
    assert first.status_code == 200, first.get_data(as_text=True)
    body = first.get_json()
    assert [(m["id"], m["name"]) for m in body["members"]] == [
        (ids["Bob"], "Bob Carolson"),
        (ids["Caroline"], "Caroline Smith"),
    ]
    rest = bridge.admin("GET", "/admin/v1/members", query_string={"q": "car", "before": body["next_before"]})
    assert [m["id"] for m in rest.get_json()["members"]] == [ids["Carol"]] and rest.get_json()["next_before"] is None
    too_long = bridge.admin("GET", "/admin/v1/members", query_string={"q": "x" * 321})
    assert too_long.status_code == 422 and too_long.get_json()["error"]["code"] == "validation_failed"

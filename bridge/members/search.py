"""Finding members (the console's Members page): by e-mail, shop customer id, member id, referral code or name, with
filters (tier, available balance range, last activity), newest first, in keyset pages (``before`` the last id
shown; never OFFSET).

Every look-up goes through an index: e-mail ``ix_member_program_id_email``, customer id
``ix_member_identity_platform_customer_id`` (015), referral code ``uq_referral_code_program_id_code``, tier
``ix_member_profile_program_id_tier`` (015). A balance or activity filter is evaluated per member walked (its
entries by ``ix_ledger_entry_member_id_id``), so a page stops after ``SCAN_LIMIT`` members walked: the page
says it was cut short and gives the cursor to go on from, instead of scanning a million members in one request.
A text with a letter also finds names: each of its first words (``names.MAX_QUERY_WORDS``), folded as names are
(``bridge.members.names.fold``), must start a word of the member's name, a range on
``ix_member_name_word_program_id_word`` (020).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, intersect, or_, select

from bridge.ledger.model import EntryState
from bridge.members import names
from bridge.members.service import normalize_email
from bridge.storage import member_names as name_store
from bridge.storage import tables as t

MAX_PAGE = 100
SCAN_LIMIT = 5000  # members walked per page when a balance/activity filter must be checked member by member
MAX_QUERY = 320  # the e-mail column's length: longer text matches nothing
NAME_IDS_LISTED = 2000  # members matching every word of a several-word name listed by id (more: walked instead)


@dataclass(frozen=True)
class MemberQuery:
    text: str = ""  # an e-mail, a customer id, a member id (``#12`` or digits), a referral code or a name's words
    tier: str | None = None
    min_available: int | None = None
    max_available: int | None = None
    active_since: datetime | None = None  # an entry (earned, spent, adjusted...) at or after
    inactive_since: datetime | None = None  # no entry at or after (or none at all)
    before: int | None = None  # keyset: members with a smaller id
    limit: int = 50


@dataclass(frozen=True)
class MemberPage:
    members: list[dict[str, Any]]
    next_before: int | None  # the cursor of the next page; None: this was the last
    cut_short: bool  # the scan limit stopped the page before it was full (more may match further on)


def search(conn: Connection, program_id: str, query: MemberQuery) -> MemberPage:
    limit = max(1, min(query.limit, MAX_PAGE))
    m = t.member.c
    stmt = select(m.id, m.email, m.created_at).where(m.program_id == program_id)
    text = query.text.strip()[:MAX_QUERY]
    if text:
        stmt = stmt.where(_matching(conn, program_id, text, query.before))
    if query.tier:
        p = t.member_profile.c
        stmt = stmt.where(m.id.in_(select(p.member_id).where(p.program_id == program_id, p.tier == query.tier[:64])))
    if query.before is not None:
        stmt = stmt.where(m.id < query.before)
    per_member = _needs_per_member_filter(query)
    floor: int | None = None
    available = _available_of(m.id)
    last_activity = _last_activity_of(m.id)
    stmt = stmt.add_columns(available.label("available"), last_activity.label("last_activity"))
    if per_member:
        if query.min_available is not None:
            stmt = stmt.where(available >= query.min_available)
        if query.max_available is not None:
            stmt = stmt.where(available <= query.max_available)
        if query.active_since is not None:
            stmt = stmt.where(last_activity >= query.active_since)
        if query.inactive_since is not None:
            stmt = stmt.where(or_(last_activity.is_(None), last_activity < query.inactive_since))
        # bounded walk: only the next SCAN_LIMIT members (by id) are looked at for this page
        window = select(m.id).where(m.program_id == program_id)
        if query.before is not None:
            window = window.where(m.id < query.before)
        floor = conn.scalar(select(func.min(window.order_by(m.id.desc()).limit(SCAN_LIMIT).subquery().c.id)))
        if floor is not None:
            stmt = stmt.where(m.id >= floor)
    rows = [dict(r) for r in conn.execute(stmt.order_by(m.id.desc()).limit(limit + 1)).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    _add_details(conn, rows)
    if more:
        return MemberPage(rows, rows[-1]["id"], False)
    if per_member and floor is not None and _any_below(conn, program_id, floor):
        return MemberPage(rows, floor, True)  # the walk ended: go on below the last member walked
    return MemberPage(rows, None, False)


def _needs_per_member_filter(query: MemberQuery) -> bool:
    return any(
        v is not None for v in (query.min_available, query.max_available, query.active_since, query.inactive_since)
    )


def _matching(conn: Connection, program_id: str, text: str, before: int | None) -> Any:
    """What a search box's text can mean. Each meaning is looked up by its own index first and the page then
    selects those members by id: one ``OR`` over sub-selects made PostgreSQL scan every member (170 ms at 200k)."""
    m = t.member.c
    if "@" in text:
        return m.email == normalize_email(text)
    ids: set[int] = set()
    bare = text.lstrip("#")
    if bare.isdigit() and len(bare) < 19:
        ids.add(int(bare))  # a member id (the page's program filter drops another program's)
    i = t.member_identity.c
    ids.update(conn.scalars(select(i.member_id).where(i.program_id == program_id, i.platform_customer_id == text[:64])))
    rc = t.referral_code.c
    ids.update(conn.scalars(select(rc.member_id).where(rc.program_id == program_id, rc.code == text.upper()[:32])))
    by_name = _by_name(conn, program_id, text, before)
    if by_name is None:
        return m.id.in_(sorted(ids))
    # a code or customer id that also starts a name: both (an OR, only when an exact look-up found someone)
    return or_(m.id.in_(sorted(ids)), by_name) if ids else by_name


def _by_name(conn: Connection, program_id: str, text: str, before: int | None) -> Any:
    """Members each of the text's words starts a word of the name of; None when the text has no letter (an id
    or a number is no name).

    One word: a sub-select PostgreSQL plans well (it knows from the word index's statistics how many members a
    prefix matches: many, it walks the members newest first until the page is full; few, it looks them up). Several
    words: each alone may match many members and all together few, which no estimate sees (it walked 58k of 200k
    members for "carol poe"); so the members matching all of them are fetched first (``INTERSECT`` of the words'
    index ranges), and the page selects among those ids, unless they are too many to list, when the walk is fast.
    """
    if not any(ch.isalpha() for ch in text):
        return None
    wanted = names.words(text, names.MAX_QUERY_WORDS)
    if not wanted:
        return None
    m = t.member.c
    ranges = [name_store.with_word_prefix(program_id, word, before) for word in wanted]
    if len(ranges) > 1:
        ids = conn.scalars(intersect(*ranges).limit(NAME_IDS_LISTED + 1)).all()
        if len(ids) <= NAME_IDS_LISTED:
            return m.id.in_(sorted(ids))
    return and_(*(m.id.in_(r) for r in ranges))


def _available_of(member_id: Any) -> Any:
    e = t.ledger_entry.c
    return (
        select(func.coalesce(func.sum(e.points), 0))
        .where(e.member_id == member_id, e.state == EntryState.AVAILABLE.value)
        .scalar_subquery()
    )


def _last_activity_of(member_id: Any) -> Any:
    """The newest entry's time: entries are appended, so the highest id is the newest (one index probe)."""
    e = t.ledger_entry.c
    return select(e.created_at).where(e.member_id == member_id).order_by(e.id.desc()).limit(1).scalar_subquery()


def _any_below(conn: Connection, program_id: str, floor: int) -> bool:
    m = t.member.c
    return conn.scalar(select(m.id).where(m.program_id == program_id, m.id < floor).limit(1)) is not None


def _add_details(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Name, tier and shop customer ids of the members on the page (three queries for the whole page)."""
    ids = [r["id"] for r in rows]
    if not ids:
        return
    p = t.member_profile.c
    tiers = dict(conn.execute(select(p.member_id, p.tier).where(p.member_id.in_(ids))).all())
    i = t.member_identity.c
    identities: dict[int, list[str]] = {}
    for member_id, shop_id, customer_id in conn.execute(
        select(i.member_id, i.shop_id, i.platform_customer_id).where(i.member_id.in_(ids)).order_by(i.id)
    ):
        identities.setdefault(member_id, []).append(f"{shop_id}:{customer_id}")
    shown = name_store.names_of(conn, ids)
    for row in rows:
        row["name"] = shown.get(row["id"])
        row["tier"] = tiers.get(row["id"])
        row["identities"] = identities.get(row["id"], [])
        row["available"] = int(row["available"] or 0)

"""What the owner edits about a member: the invitation into an invite-only program, the birthday and the tier
override. One path for the admin API (``rules_api``) and the console; every change is audited with its actor."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from bridge.config import ProgramSettings
from bridge.errors import TierIsEarned, UnknownMember
from bridge.storage import audit, life
from bridge.storage import members as member_store
from bridge.storage.clock import utcnow


def invite(conn: Connection, program_id: str, member_id: int, actor: str) -> datetime:
    """Let a member into an invite-only (or closed) program: from now on they earn. Returns when they joined
    (the first invitation's time: inviting again changes nothing)."""
    if not member_store.lock(conn, program_id, member_id):
        raise UnknownMember(f"no member {member_id} in this program")
    joined = life.profile(conn, member_id).joined_at
    if joined is not None:
        return joined
    now = utcnow()
    life.update_profile(conn, program_id, member_id, now, joined_at=now, invited_by=actor)
    audit.record(
        conn,
        program_id=program_id,
        actor=actor,
        action="member.invite",
        target_type="member",
        target_id=str(member_id),
        details={},
    )
    return now


def update(
    conn: Connection, program: ProgramSettings, member_id: int, actor: str, changes: dict[str, Any]
) -> life.Profile:
    """Set ``birthday`` (a date or None) and/or ``tier`` (a tier id or None: no override); audited when anything
    is given. With ``program.tiers`` the tier is earned (or overridden until a date, ``bridge.tiers``): setting it
    here is ``TierIsEarned``, for the admin API and the console alike."""
    program_id = program.id
    if "tier" in changes and program.tiers is not None:
        raise TierIsEarned("this program's tiers are earned: set one until a date with PUT .../tier-override")
    if not member_store.lock(conn, program_id, member_id):
        raise UnknownMember(f"no member {member_id} in this program")
    if changes:
        life.update_profile(conn, program_id, member_id, utcnow(), **changes)
        audit.record(
            conn,
            program_id=program_id,
            actor=actor,
            action="member.profile",
            target_type="member",
            target_id=str(member_id),
            details={k: (v.isoformat() if isinstance(v, date) else v) for k, v in changes.items()},
        )
    return life.profile(conn, member_id)

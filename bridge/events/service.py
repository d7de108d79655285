"""Recording a custom event and awarding it, exactly once per idempotency key.

The request is recorded in ``member_event`` (unique on its key, with a digest of the whole request) in the same
transaction as its ledger entries, keyed ``<program>:event:<event id>:<rule id>``: a replay of the same request
returns the first answer, the same key with another request is refused (409), and a crash writes all or nothing.
With explicit ``points`` the caller decides (the event rules are not consulted); without, the enabled ``event``
rules for its type do, each at most ``max_per_day`` times per member and day of the program's time zone.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from bridge.errors import IdempotencyConflict, UnknownMember
from bridge.ledger import service as ledger
from bridge.ledger.model import EntryKind, NewEntry
from bridge.rules import RuleSet
from bridge.rules.base import Award
from bridge.rules.caps import Cap
from bridge.rules.events import evaluate_event
from bridge.storage import audit, life
from bridge.storage import events as store
from bridge.storage import members as member_store
from bridge.storage import segments as segment_store
from bridge.storage.clock import utcnow

CAUSE = "event"
EXPLICIT_RULE = "points"  # the rule id of an award whose points the request gave
_DAY = Cap("", "day", 0)


@dataclass(frozen=True)
class EventRequest:
    member_ref: dict[str, str]  # as sent: {"shop", "customer_id"} or {"email"}
    type: str
    request_key: str
    points: int | None
    data: dict[str, Any] = field(default_factory=dict)

    def digest(self) -> str:
        canonical = {"member": self.member_ref, "type": self.type, "points": self.points, "data": self.data}
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def record(
    conn: Connection,
    *,
    program_id: str,
    shop_id: str | None,
    member_id: int,
    rules: RuleSet,
    request: EventRequest,
    actor: str,
) -> tuple[dict[str, Any], bool]:
    """The event and its awards; ``False`` when it is a replay. Raises ``IdempotencyConflict``, ``UnknownMember``."""
    digest = request.digest()
    replayed = store.by_key(conn, program_id, request.request_key)
    if replayed is not None:
        return _same(conn, replayed, digest), False
    if not member_store.lock(conn, program_id, member_id):  # serialises daily limits per member
        raise UnknownMember(f"no member {member_id} in this program")
    now = utcnow()
    row = store.add(
        conn,
        {
            "program_id": program_id,
            "shop_id": shop_id,
            "member_id": member_id,
            "type": request.type,
            "request_key": request.request_key,
            "digest": digest,
            "points": request.points,
            "data": request.data,
            "actor": actor,
            "created_at": now,
        },
    )
    if row is None:  # a concurrent twin took the key first
        twin = store.by_key(conn, program_id, request.request_key)
        assert twin is not None
        return _same(conn, twin, digest), False
    awards, capped = _awards(conn, rules, member_id, request, now)
    for award in awards:
        ledger.post(
            conn,
            NewEntry(
                program_id=program_id,
                shop_id=shop_id,
                member_id=member_id,
                points=award.points,
                kind=EntryKind.EARN,
                idempotency_key=f"{program_id}:event:{row['id']}:{award.rule_id}",
                cause_type=CAUSE,
                cause_id=str(row["id"]),
                rule_id=award.rule_id,
                note=award.reason,
                meta={"type": request.type, "request_key": request.request_key},
            ),
        )
    audit.record(
        conn,
        program_id=program_id,
        shop_id=shop_id,
        actor=actor,
        action="event.recorded",
        target_type="member",
        target_id=str(member_id),
        details={"event_id": row["id"], "type": request.type, "points": sum(a.points for a in awards)},
    )
    return _view(conn, row, capped), True


def _awards(
    conn: Connection, rules: RuleSet, member_id: int, request: EventRequest, now: datetime
) -> tuple[list[Award], list[str]]:
    if request.points is not None:
        return [Award(EXPLICIT_RULE, request.points, f"{request.type} event")], []
    if rules.membership.policy != "open" and life.profile(conn, member_id).joined_at is None:
        return [], []  # a closed or invite-only program: rules award members who are in (as sign-up bonuses do)
    wanted = [r.id for r in rules.event_rules if r.event == request.type]
    today = store.awarded_since(conn, member_id, wanted, _DAY.window_start(now, rules.timezone))
    segments = segment_store.of_member(conn, member_id) if rules.needs_segments else frozenset()  # issue 16
    return evaluate_event(rules.event_rules, request.type, today, segments)


def _same(conn: Connection, row: dict[str, Any], digest: str) -> dict[str, Any]:
    if row["digest"] != digest:
        raise IdempotencyConflict("this idempotency_key was already used for another event")
    return _view(conn, row, [])


def _view(conn: Connection, row: dict[str, Any], capped: list[str]) -> dict[str, Any]:
    entries = store.entries_of(conn, row["id"])
    return {
        "event": {
            "id": row["id"],
            "type": row["type"],
            "member_id": row["member_id"],
            "shop_id": row["shop_id"],
            "idempotency_key": row["request_key"],
            "created_at": row["created_at"].isoformat(),
        },
        "awards": [{"rule_id": e["rule_id"], "points": e["points"], "entry_id": e["id"]} for e in entries],
        "points": sum(e["points"] for e in entries),
        "capped": capped,  # rules that matched but reached their daily limit
    }

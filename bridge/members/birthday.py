"""Birthday bonuses: a periodic job awards them on the member's birthday in the program's time zone, once a year."""

from __future__ import annotations

from datetime import date, datetime

from bridge.ledger import service as ledger
from bridge.ledger.model import EntryKind, NewEntry
from bridge.notifications import outbox
from bridge.rules import MemberContext, evaluate_birthday
from bridge.rules.signup import is_birthday
from bridge.runtime import Runtime
from bridge.storage import db, life
from bridge.storage import segments as segment_store

CAUSE_BIRTHDAY = "birthday"


def run_birthdays(rt: Runtime, now: datetime) -> dict[str, int]:
    rules, program_id = rt.rules, rt.settings.program.id
    today = now.astimezone(rules.timezone).date()
    days = [(today.month, today.day)]
    if is_birthday(date(2000, 2, 29), today) and today.day == 28:
        days.append((2, 29))  # leap-day birthdays are celebrated on the 28th in other years
    with db.read(rt.engine) as conn:
        born = life.members_born_on(conn, program_id, days)
    awarded = 0
    for member_id, birthday in born:
        with db.write(rt.engine) as conn:
            profile = life.profile(conn, member_id)
            member = MemberContext(
                member_id=member_id,
                joined=rules.membership.policy == "open" or profile.joined_at is not None,
                tier=profile.tier,
                birthday=birthday,
                # issue 16: a birthday rule for some segments only reads the member's (nightly) segments
                segments=segment_store.of_member(conn, member_id) if rules.needs_segments else frozenset(),
            )
            awards = list(evaluate_birthday(rules, member, today))
            for award in awards:
                _, created = ledger.post(
                    conn,
                    NewEntry(
                        program_id=program_id,
                        member_id=member_id,
                        points=award.points,
                        kind=EntryKind.EARN,
                        # once a year per rule, however often the job runs that day
                        idempotency_key=f"{program_id}:member:{member_id}:birthday:{today.year}:{award.rule_id}",
                        cause_type=CAUSE_BIRTHDAY,
                        cause_id=str(today.year),
                        rule_id=award.rule_id,
                        note=award.reason,
                    ),
                )
                awarded += award.points if created else 0
            outbox.add(  # issue 17: a greeting once a year, with the birthday points if any (same transaction)
                conn,
                program_id=program_id,
                type="birthday",
                key=f"{program_id}:member:{member_id}:birthday:{today.year}",
                member_id=member_id,
                payload={"points": sum(a.points for a in awards)},
            )
    return {"members": len(born), "points": awarded}

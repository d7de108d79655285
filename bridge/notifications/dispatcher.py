"""The dispatcher: outbox events -> deliveries -> messages, never doubled and never inside a write transaction.

Each round:

1. **plan** (one write transaction): events not yet fanned out become deliveries, one row per (event, channel,
   target) under a unique key, due ``delay_days`` after the event;
2. **claim** (one write transaction): due deliveries are checked (opt-outs, an address the shop vouches for, quiet
   hours in the program's zone, the daily cap per member) and either skipped, held until later (never dropped), or
   claimed: ``sending`` with a lease and a claim token;
3. **send** with no transaction open (ADR 0009): one SMTP connection and one HTTP session per round;
4. **record** (one write transaction): sent, or retried with backoff, or dead after ``max_attempts`` (a
   permanent refusal at once). Only the claim's holder records: a slow worker whose lease ran out cannot
   overwrite its successor.

A worker that dies between send and record leaves its claims ``sending``; when the lease ends they are claimed and
sent again. That is the one window in which a message can go twice, at most once per lease: webhooks carry the
same ``webhook-id`` (receivers drop the repeat), SMS the same Kavenegar ``localid``, e-mail the same
``Message-ID``.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bridge.notifications import store, unsubscribe
from bridge.notifications.channels import Outcome
from bridge.notifications.channels import email as email_channel
from bridge.notifications.channels import sms as sms_channel
from bridge.notifications.channels import webhooks as webhook_channel
from bridge.notifications.settings import MEMBER_CHANNELS, NotificationSettings
from bridge.notifications.store import Contact, Delivery, Event
from bridge.runtime import Runtime
from bridge.storage import db
from bridge.storage import ledger as ledger_store
from bridge.storage.clock import utcnow

if TYPE_CHECKING:
    import requests

    from bridge.notifications.templates import Templates

# requests and Jinja2 come with the first message to send, not with the module: a worker whose program sends
# nothing never holds them (bench/memory.py).

log = logging.getLogger(__name__)

MAX_ROUNDS = 1000


@dataclass
class Job:
    delivery: Delivery
    event: Event
    claim: str
    attempts: int
    contact: Contact | None
    balance: dict[str, int] = field(default_factory=dict)


def dispatch(rt: Runtime, now: datetime) -> dict[str, int]:
    """Send everything due at ``now``; returns counts (planned, sent, retried, dead, skipped, held)."""
    totals: Counter[str] = Counter()
    with db.read(rt.engine) as conn:
        if not store.work_waiting(conn, rt.settings.program.id, now):
            return {}  # the usual case every few seconds: no write transaction (SQLite's lock is the whole file)
    for _ in range(MAX_ROUNDS):
        now = max(now, utcnow())  # a long run's leases count from when each round claims, not from its start
        planned = plan(rt, now)
        totals["planned"] += planned
        jobs, touched = claim(rt, now, totals)
        if jobs:
            record(rt, jobs, send(rt, jobs), max(now, utcnow()), totals)
        if not touched and not planned:
            break
    if totals["sent"] or totals["dead"]:
        log.info("notifications: %s", dict(totals))
    return dict(totals)


# --- 1. plan ----------------------------------------------------------------------------------------------------------
def targets(n: NotificationSettings, event: Event) -> list[tuple[str, str, int]]:
    """(channel, target, delay days) for an event. Members hear of an event only when ``events`` turns it on;
    the owner's endpoints get every event their filter names unless ``events`` turns it off or leaves out
    ``webhook``."""
    conf = dict(n.events).get(event.type)
    if conf is not None and not conf.enabled:
        return []
    out: list[tuple[str, str, int]] = []
    if conf is not None and event.member_id is not None:
        for channel in conf.channels:
            if (channel == "email" and n.email.enabled) or (channel == "sms" and n.sms.enabled):
                out.append((channel, "", conf.delay_days))
    if conf is None or "webhook" in conf.channels:
        out += [("webhook", endpoint.id, 0) for endpoint in n.webhooks if endpoint.wants(event.type)]
    return out


def plan(rt: Runtime, now: datetime) -> int:
    n, program_id = rt.settings.notifications, rt.settings.program.id
    with db.write(rt.engine) as conn:
        events = store.unplanned(conn, program_id, n.batch_size)
        rows = [
            {
                "program_id": program_id,
                "event_id": event.id,
                "member_id": event.member_id,
                "channel": channel,
                "target": target,
                "state": store.PENDING,
                "attempts": 0,
                "next_attempt_at": event.created_at + timedelta(days=delay),
                "created_at": now,
                "updated_at": now,
            }
            for event in events
            for channel, target, delay in targets(n, event)
        ]
        store.add_deliveries(conn, rows)
        store.mark_planned(conn, [event.id for event in events], now)
    return len(events)


# --- 2. claim ---------------------------------------------------------------------------------------------------------
def claim(rt: Runtime, now: datetime, totals: Counter[str]) -> tuple[list[Job], int]:
    """Claim what can be sent now; returns the jobs and how many deliveries were looked at."""
    n, program_id = rt.settings.notifications, rt.settings.program.id
    zone = ZoneInfo(rt.settings.program.earning.timezone)
    local = now.astimezone(zone)
    day_start = datetime.combine(local.date(), time(0), zone)
    jobs: list[Job] = []
    with db.write(rt.engine) as conn:
        due = store.due(conn, program_id, now, n.batch_size)
        events = store.events(conn, [x.event_id for x in due])
        members = sorted({x.member_id for x in due if x.member_id is not None})
        outs = store.opted_out(conn, members)
        contacts = store.contacts(conn, members)
        sent_today = Counter(store.sent_since(conn, members, day_start))
        lease, claims = now + timedelta(seconds=n.lease_seconds), []
        for x in due:
            contact = contacts.get(x.member_id) if x.member_id is not None else None
            if x.channel in MEMBER_CHANNELS:
                why = _skip_reason(x, outs, contact)
                if why:
                    store.change(conn, x.id, state=store.SKIPPED, last_error=why, lease_until=None, updated_at=now)
                    totals["skipped"] += 1
                    continue
                later = _held_until(n, x, local, sent_today)
                if later is not None:
                    store.change(
                        conn, x.id, state=store.PENDING, next_attempt_at=later, lease_until=None, updated_at=now
                    )
                    totals["held"] += 1
                    continue
                assert x.member_id is not None
                sent_today[x.member_id] += 1
            token = secrets.token_hex(8)
            claims.append(
                {"b_id": x.id, "b_attempts": x.attempts + 1, "b_lease_until": lease, "b_claim": token, "b_now": now}
            )
            jobs.append(Job(x, events[x.event_id], token, x.attempts + 1, contact))
        store.claim_many(conn, claims)
        wanted = {j.delivery.member_id for j in jobs if j.delivery.channel in MEMBER_CHANNELS}
        member_ids = sorted(m for m in wanted if m is not None)
        balances = ledger_store.balances(conn, member_ids) if member_ids else {}
        for job in jobs:
            found = balances.get(job.delivery.member_id or 0)
            if found is not None and job.delivery.channel in MEMBER_CHANNELS:
                job.balance = {"available": found.available, "pending": found.pending, "lifetime": found.lifetime}
    return jobs, len(due)


def _skip_reason(x: Delivery, outs: set[tuple[int, str]], contact: Contact | None) -> str:
    if x.member_id is None or contact is None:
        return "no member"
    if (x.member_id, x.channel) in outs:
        return "unsubscribed"
    if x.channel == "email" and not contact.email:
        return "no e-mail the shop vouches for"  # ADR 0007: never a typed billing address of an account
    if x.channel == "sms" and not contact.phone:
        return "no phone number"
    return ""


def _held_until(n: NotificationSettings, x: Delivery, local: datetime, sent_today: Counter[int]) -> datetime | None:
    """When a member message that cannot go now may go (quiet hours, the day's cap), or None: it goes now."""
    zone = local.tzinfo
    quiet = n.quiet_hours
    if quiet is not None and quiet.holds(local.time()):
        end = datetime.combine(local.date(), quiet.end, zone)
        return end if end > local else end + timedelta(days=1)
    if n.max_per_member_per_day and x.member_id is not None and sent_today[x.member_id] >= n.max_per_member_per_day:
        return datetime.combine(local.date() + timedelta(days=1), time(0), zone)
    return None


# --- 3. send (no transaction open) ------------------------------------------------------------------------------------
_TEMPLATES: dict[tuple[str, str], Templates] = {}


def templates_for(rt: Runtime) -> Templates:
    key = (str(rt.settings.data_dir), rt.settings.program.earning.timezone)
    if key not in _TEMPLATES:
        from bridge.notifications.templates import Templates

        _TEMPLATES[key] = Templates(Path(rt.settings.data_dir), ZoneInfo(key[1]))
    return _TEMPLATES[key]


def context(rt: Runtime, event: Event, member_id: int | None, balance: dict[str, int], channel: str) -> dict[str, Any]:
    """What a template sees: the event's payload, the club, the member's balance, the unsubscribe link."""
    shop = rt.settings.shop(event.shop_id) if event.shop_id else None
    values: dict[str, Any] = {
        "currency": shop.currency if shop else "",
        **event.payload,
        "program_name": rt.settings.program.name,
        "member_id": member_id,
        "balance": balance or {"available": 0, "pending": 0, "lifetime": 0},
        "unsubscribe_url": "",
    }
    if member_id is not None and channel in MEMBER_CHANNELS:
        values["unsubscribe_url"] = unsubscribe.url(rt.settings, member_id, channel)
    return values


def send(rt: Runtime, jobs: list[Job]) -> list[Outcome]:
    """Send the claimed jobs with no transaction open, ``concurrency`` at a time: a remote SMTP server or webhook
    answers in tens of milliseconds, so one message after the other would cap a worker near 20-50 messages/s.
    Each thread has its own SMTP connection and HTTP session. Two webhooks for one member and endpoint are never
    in one claim (``store.due``), so their order holds."""
    n = rt.settings.notifications
    lanes = max(1, min(n.concurrency, len(jobs)))
    chunks = [jobs[i::lanes] for i in range(lanes)]
    outcomes: dict[int, Outcome] = {}
    if lanes == 1:
        outcomes.update(_send_lane(rt, chunks[0]))
    else:
        with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="notify") as pool:
            for done in pool.map(lambda chunk: _send_lane(rt, chunk), chunks):
                outcomes.update(done)
    return [
        outcomes.get(job.delivery.id, Outcome(False, error=f"unknown channel {job.delivery.channel}")) for job in jobs
    ]


def _send_lane(rt: Runtime, jobs: list[Job]) -> dict[int, Outcome]:
    n = rt.settings.notifications
    outcomes: dict[int, Outcome] = {}
    emails = [job for job in jobs if job.delivery.channel == "email"]
    if emails:
        with email_channel.SmtpSender(n.email) as smtp:
            for job in emails:
                outcomes[job.delivery.id] = _send_email(rt, smtp, job)
    others = [job for job in jobs if job.delivery.channel in ("sms", "webhook")]
    if others:
        import requests

        with requests.Session() as session:
            provider = sms_channel.provider_for(n.sms)
            endpoints = {endpoint.id: endpoint for endpoint in n.webhooks}
            for job in others:
                if job.delivery.channel == "sms":
                    outcomes[job.delivery.id] = _send_sms(rt, provider, session, job)
                    continue
                endpoint = endpoints.get(job.delivery.target)
                if endpoint is None:
                    outcomes[job.delivery.id] = Outcome(False, error="endpoint no longer configured", permanent=True)
                    continue
                payload = webhook_channel.body(job.event.type, job.event.created_at, _webhook_data(job))
                outcomes[job.delivery.id] = webhook_channel.send(
                    session, endpoint, message_id(rt, job.delivery), utcnow(), payload
                )
    return outcomes


def message_id(rt: Runtime, delivery: Delivery) -> str:
    """Stable per delivery: a resend (after a crash, or a replay) carries the same id."""
    return f"msg_{rt.settings.program.id}_{delivery.id}"


def _webhook_data(job: Job) -> dict[str, Any]:
    data = {"event_id": job.event.id, "member_id": job.event.member_id, "shop_id": job.event.shop_id}
    if job.contact is not None and job.contact.email:
        data["email"] = job.contact.email
    return {**data, **job.event.payload}


def _locale(rt: Runtime, contact: Contact | None) -> str:
    return (contact.locale if contact and contact.locale else None) or rt.settings.notifications.locale


def _send_email(rt: Runtime, smtp: email_channel.SmtpSender, job: Job) -> Outcome:
    assert job.contact is not None and job.contact.email
    try:
        rendered = templates_for(rt).render(
            job.event.type,
            "email",
            _locale(rt, job.contact),
            context(rt, job.event, job.contact.member_id, job.balance, "email"),
        )
    except Exception as exc:  # an owner's template may be broken: dead-letter the message, visibly
        return Outcome(False, error=f"template: {type(exc).__name__}: {exc}"[:500], permanent=True)
    domain = rt.settings.notifications.email.from_address.rpartition("@")[2].strip("> ") or "loyalty-bridge"
    digest = hashlib.sha256(job.event.key.encode()).hexdigest()[:12]
    mail = email_channel.Mail(
        to=job.contact.email,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id=f"<notify.{job.delivery.id}.{digest}@{domain}>",
        unsubscribe_url=unsubscribe.url(rt.settings, job.contact.member_id, "email"),
        locale=rendered.locale,
    )
    return smtp.send(mail)


def _send_sms(rt: Runtime, provider: sms_channel.SmsProvider | None, session: requests.Session, job: Job) -> Outcome:
    if provider is None:
        return Outcome(False, error="no SMS provider configured", permanent=True)
    assert job.contact is not None and job.contact.phone
    try:
        rendered = templates_for(rt).render(
            job.event.type,
            "sms",
            _locale(rt, job.contact),
            context(rt, job.event, job.contact.member_id, job.balance, "sms"),
        )
    except Exception as exc:
        return Outcome(False, error=f"template: {type(exc).__name__}: {exc}"[:500], permanent=True)
    return provider.send(session, sms_channel.Sms(job.contact.phone, rendered.text, message_id(rt, job.delivery)))


# --- 4. record --------------------------------------------------------------------------------------------------------
def backoff(n: NotificationSettings, attempts: int) -> timedelta:
    return timedelta(seconds=min(n.retry_base_seconds * 2 ** max(attempts - 1, 0), n.retry_max_seconds))


def record(rt: Runtime, jobs: list[Job], outcomes: list[Outcome], now: datetime, totals: Counter[str]) -> None:
    n = rt.settings.notifications
    rows: list[dict[str, Any]] = []
    kinds: Counter[str] = Counter()
    for job, outcome in zip(jobs, outcomes, strict=True):
        row: dict[str, Any] = {
            "b_id": job.delivery.id,
            "b_claim": job.claim,
            "b_lease_until": None,
            "b_updated_at": now,
        }
        if outcome.ok:
            row.update(b_state=store.SENT, b_sent_at=now, b_provider_id=outcome.provider_id[:128], b_last_error=None)
            kinds["sent"] += 1
        elif outcome.permanent or job.attempts >= n.max_attempts:
            row.update(b_state=store.DEAD, b_last_error=outcome.error[:500])
            kinds["dead"] += 1
        else:
            retry_at = now + backoff(n, job.attempts)
            row.update(b_state=store.PENDING, b_next_attempt_at=retry_at, b_last_error=outcome.error[:500])
            kinds["retried"] += 1
        rows.append(row)
    with db.write(rt.engine) as conn:
        recorded = store.record_many(conn, rows)
    if recorded == len(rows):
        totals.update(kinds)
        return
    # a claim was lost (its lease ran out and another worker took it over): say which outcomes counted
    with db.read(rt.engine) as conn:
        states = store.states(conn, [job.delivery.id for job in jobs])
    for job, row in zip(jobs, rows, strict=True):
        claim_held = states.get(job.delivery.id) == (row["b_state"], job.claim)
        totals[_kind(row["b_state"]) if claim_held else "lost_claim"] += 1


def _kind(state: str) -> str:
    return {store.SENT: "sent", store.DEAD: "dead"}.get(state, "retried")

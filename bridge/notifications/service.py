"""What the admin API, the CLI and the unsubscribe page do with notifications: preview, replay, preferences."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from bridge.errors import BridgeError, UnknownMember
from bridge.notifications import dispatcher, store
from bridge.notifications.channels import sms as sms_channel
from bridge.notifications.channels import webhooks as webhook_channel
from bridge.notifications.store import Event
from bridge.runtime import Runtime
from bridge.storage import audit, db
from bridge.storage import ledger as ledger_store
from bridge.storage import tables as t
from bridge.storage.clock import utcnow


class DeliveryNotFound(BridgeError):
    code = "notification_delivery_not_found"
    status = 404


class DeliveryInFlight(BridgeError):
    """Only a finished delivery (sent, dead, skipped) can be replayed: a pending one goes by itself."""

    code = "notification_delivery_in_flight"
    status = 409


class UnsubscribeLinkInvalid(BridgeError):
    code = "unsubscribe_link_invalid"
    status = 404


SAMPLES: dict[str, dict[str, Any]] = {
    "points_earned": {"order_id": "1001", "points": 120, "total": "120.00"},
    "points_released": {"order_id": "1001", "points": 120},
    "points_expiring_soon": {"points": 300, "expires_at": "2026-12-31T00:00:00+00:00"},
    "points_expired": {"points": 300},
    "reward_issued": {
        "title": "5.00 off your order",
        "code": "LB-SAMPLE",
        "points": 500,
        "expires_at": "2026-12-31T00:00:00+00:00",
    },
    "coupon_expiring": {"title": "5.00 off your order", "code": "LB-SAMPLE", "expires_at": "2026-12-31T00:00:00+00:00"},
    "referral_friend_joined": {"referral_id": 1},
    "referral_qualified": {"referral_id": 1, "points": 500},
    "thank_you": {"order_id": "1001", "total": "120.00"},
    "birthday": {"points": 100},
    "win_back": {"days": 90},
    "occasion": {"occasion": "nowruz", "year": 1405},
    "campaign": {
        "campaign": "yalda",
        "subject": {"en": "A Yalda gift", "fa": "هدیهٔ یلدا"},
        "text": {"en": "Double points tonight.", "fa": "امشب امتیاز دوبرابر."},
        "points": 0,
    },
    "tier_up": {"from_tier": "silver", "to_tier": "gold", "tier_name": "Gold", "reason": "qualified"},
    "tier_down": {"from_tier": "gold", "to_tier": "silver", "tier_name": "Silver", "reason": "review"},
    "tier_downgrade_warning": {
        "tier": "gold",
        "tier_name": "Gold",
        "metric": "points",
        "needed": "120",
        "by": "2026-12-31T00:00:00+00:00",
    },
}


def preview(
    rt: Runtime, *, event_type: str, member_id: int, channel: str = "email", locale: str | None = None
) -> dict[str, Any]:
    """The message ``member_id`` would get for ``event_type`` now: from their latest such event, else a sample."""
    program_id = rt.settings.program.id
    with db.read(rt.engine) as conn:
        contact = store.contacts(conn, [member_id]).get(member_id)
        if contact is None or not _in_program(conn, program_id, member_id):
            raise UnknownMember(f"no member {member_id} in this program")
        b = ledger_store.balance(conn, member_id)
        event = _latest(conn, member_id, event_type) or Event(
            0, program_id, None, member_id, event_type, "preview", dict(SAMPLES.get(event_type, {})), utcnow()
        )
    balance = {"available": b.available, "pending": b.pending, "lifetime": b.lifetime}
    chosen = locale or (contact.locale if contact.locale else None) or rt.settings.notifications.locale
    out: dict[str, Any] = {"event": event_type, "channel": channel, "member_id": member_id, "locale": chosen}
    if channel == "webhook":
        data = {"event_id": event.id, "member_id": member_id, "shop_id": event.shop_id, **event.payload}
        return {**out, "body": webhook_channel.body(event_type, event.created_at, data)}
    values = dispatcher.context(rt, event, member_id, balance, channel)
    rendered = dispatcher.templates_for(rt).render(event_type, channel, chosen, values)
    out.update(
        locale=rendered.locale,
        template=rendered.template,
        to=contact.email if channel == "email" else contact.phone,
        subject=rendered.subject,
        text=rendered.text,
    )
    if channel == "email":
        out["html"] = rendered.html
    else:
        out["segments"] = asdict(sms_channel.count_segments(rendered.text))
    return out


def _in_program(conn: Connection, program_id: str, member_id: int) -> bool:
    m = t.member.c
    return conn.execute(select(m.id).where(m.id == member_id, m.program_id == program_id)).first() is not None


def _latest(conn: Connection, member_id: int, event_type: str) -> Event | None:
    e = t.domain_event.c
    stmt = select(t.domain_event).where(e.member_id == member_id, e.type == event_type).order_by(e.id.desc()).limit(1)
    row = conn.execute(stmt).first()
    return store.event_of(row) if row else None


def replay(rt: Runtime, delivery_id: int, actor: str) -> store.Delivery:
    """A finished delivery (dead, sent, skipped) goes again at the next dispatch, with a fresh attempt count and the
    same message id (a receiver that already has it drops it). Audited."""
    program_id, now = rt.settings.program.id, utcnow()
    with db.write(rt.engine) as conn:
        found = store.get(conn, program_id, delivery_id)
        if found is None:
            raise DeliveryNotFound(f"no notification delivery {delivery_id}")
        if found.state in (store.PENDING, store.SENDING):
            raise DeliveryInFlight(f"delivery {delivery_id} is {found.state}: it is sent without a replay")
        store.change(
            conn, delivery_id, state=store.PENDING, attempts=0, next_attempt_at=now, lease_until=None, updated_at=now
        )
        audit.record(
            conn,
            program_id=program_id,
            actor=actor,
            action="notification.replayed",
            target_type="notification_delivery",
            target_id=str(delivery_id),
            details={"previous_state": found.state, "last_error": found.last_error},
        )
        replayed = store.get(conn, program_id, delivery_id)
    assert replayed is not None
    return replayed


def unsubscribe(rt: Runtime, member_id: int, channel: str, now: datetime) -> None:
    with db.write(rt.engine) as conn:
        store.opt_out(conn, rt.settings.program.id, member_id, channel, "link", now)


def set_preferences(rt: Runtime, member_id: int, values: dict[str, Any], actor: str) -> dict[str, Any]:
    """The owner sets a member's phone, language and opt-outs (``{"opt_out": {"email": true}}``). Audited."""
    program_id, now = rt.settings.program.id, utcnow()
    p, o = t.notification_preference.c, t.notification_optout.c
    with db.write(rt.engine) as conn:
        if not _in_program(conn, program_id, member_id):
            raise UnknownMember(f"no member {member_id} in this program")
        fields: dict[str, Any] = {k: values[k] for k in ("phone", "locale") if k in values}
        if fields:
            row = {"member_id": member_id, "program_id": program_id, "phone": None, "locale": None, "updated_at": now}
            if not db.insert_or_ignore(conn, t.notification_preference, {**row, **fields}, ["member_id"]):
                conn.execute(
                    t.notification_preference.update().where(p.member_id == member_id).values(**fields, updated_at=now)
                )
        for channel, out in (values.get("opt_out") or {}).items():
            if out:
                store.opt_out(conn, program_id, member_id, channel, "admin", now)
            else:
                conn.execute(delete(t.notification_optout).where(o.member_id == member_id, o.channel == channel))
        audit.record(
            conn,
            program_id=program_id,
            actor=actor,
            action="notification.preferences",
            target_type="member",
            target_id=str(member_id),
            details={"fields": sorted(fields), "opt_out": values.get("opt_out") or {}},
        )
        return preferences(conn, member_id)


def preferences(conn: Connection, member_id: int) -> dict[str, Any]:
    contact = store.contacts(conn, [member_id]).get(member_id)
    outs = sorted(channel for _, channel in store.opted_out(conn, [member_id]))
    return {
        "member_id": member_id,
        "email": contact.email if contact else None,
        "phone": contact.phone if contact else None,
        "locale": contact.locale if contact else None,
        "opted_out": outs,
    }

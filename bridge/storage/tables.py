"""The schema. Every row knows its program and, where it belongs to one, its shop.

Changes here need a migration in ``migrations/versions`` (``bridge db upgrade`` applies them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import false
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so migrations behave the same on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BIGINT on PostgreSQL, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on every backend (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the bridge stores UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


program = Table(
    "program",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

shop = Table(
    "shop",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False, index=True),
    Column("platform", String(32), nullable=False),
    Column("base_url", String(500), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("minor_unit", Integer, nullable=False),
    Column("connection_state", String(32), nullable=False, default="configured"),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

member = Table(
    "member",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    # The member's e-mail, normalised (trimmed, lower-case): shown, searched, coupons are locked to it. Not unique:
    # two accounts may give one address (issue 12). ``""`` when none is known.
    Column("email", String(320), nullable=False),
    # The e-mail that selects this member, if any (docs/adr/0007-members-are-keyed-on-accounts.md): a guest
    # member's e-mail, or an account's own e-mail from the shop's customer resource. Never an order's billing
    # e-mail for an account. NULL: nothing but the member's shop identities selects it.
    Column("email_key", String(320), nullable=True),
    Column("first_shop_id", String(64), ForeignKey("shop.id"), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("program_id", "email_key"),
    Index("ix_member_program_id_email", "program_id", "email"),
)

member_identity = Table(
    "member_identity",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("shop_id", String(64), ForeignKey("shop.id"), nullable=False),
    Column("platform_customer_id", String(64), nullable=False),
    Column("member_id", Id, ForeignKey("member.id"), nullable=False, index=True),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("shop_id", "platform_customer_id"),
)

ledger_entry = Table(
    "ledger_entry",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("shop_id", String(64), ForeignKey("shop.id"), nullable=True),
    Column("member_id", Id, ForeignKey("member.id"), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("available_at", UtcDateTime(), nullable=True),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("cause_type", String(32), nullable=False, default=""),
    Column("cause_id", String(64), nullable=False, default=""),
    Column("rule_id", String(64), nullable=False, default=""),
    Column("refund_id", String(64), nullable=False, default=""),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("reverses_entry_id", Id, ForeignKey("ledger_entry.id"), nullable=True, index=True),
    Column("note", Text, nullable=False, default=""),
    Column("meta", JSON, nullable=False, default=dict),
    Column("created_at", UtcDateTime(), nullable=False),
    # issue 14: the published program version an order's award was computed with (NULL: other entries, or before)
    Column("program_version", Integer, nullable=True),
    Index("ix_ledger_entry_member_id_id", "member_id", "id"),
    Index("ix_ledger_entry_shop_id_cause_id", "shop_id", "cause_type", "cause_id"),
)

inbox_delivery = Table(
    "inbox_delivery",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("shop_id", String(64), ForeignKey("shop.id"), nullable=False),
    Column("topic", String(64), nullable=False),
    Column("resource_id", String(64), nullable=False, default=""),
    Column("platform_delivery_id", String(128), nullable=False, default=""),  # tracing only: not unique
    Column("headers", JSON, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("state", String(16), nullable=False),  # pending | done | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("processed_at", UtcDateTime(), nullable=True),
    Index("ix_inbox_delivery_due", "shop_id", "state", "next_attempt_at", "id"),
    Index("ix_inbox_delivery_state_id", "state", "id"),
)

order_state = Table(
    "order_state",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("shop_id", String(64), ForeignKey("shop.id"), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("member_id", Id, ForeignKey("member.id"), nullable=True),
    Column("status", String(32), nullable=False, default=""),
    Column("total", String(32), nullable=False, default="0"),
    Column("refunded_total", String(32), nullable=False, default="0"),
    Column("date_modified", UtcDateTime(), nullable=True),
    # Incremented when an order whose points were fully reversed becomes paid again (restored).
    Column("cycle", Integer, nullable=False, default=1),
    Column("updated_at", UtcDateTime(), nullable=False),
    # issue 7: imported by `bridge backfill --history-only` after it was paid: it builds history, never points.
    Column("history_only", Boolean, nullable=False, default=False, server_default=false()),
    UniqueConstraint("shop_id", "order_id"),
)

api_key = Table(
    "api_key",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(128), nullable=False, unique=True),  # sha256 hex; the key itself is never stored
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("shop_id", String(64), ForeignKey("shop.id"), nullable=True),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target_type", String(32), nullable=False),
    Column("target_id", String(64), nullable=False),
    Column("details", JSON, nullable=False, default=dict),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_audit_log_program_id_id", "program_id", "id"),
)

# --- issue 4: redemptions (points -> single-use shop coupons) ---
redemption = Table(
    "redemption",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("shop_id", String(64), ForeignKey("shop.id"), nullable=False),
    Column("member_id", Id, ForeignKey("member.id"), nullable=False),
    Column("request_key", String(128), nullable=False),  # the caller's Idempotency-Key
    Column("reward_id", String(64), nullable=False),
    Column("reward_type", String(32), nullable=False),
    Column("title", String(200), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("value", String(32), nullable=True),  # amount off or percent, as a decimal string; None: free shipping
    Column("code", String(64), nullable=False),  # pre-generated before the shop is called: lookups find it
    # reserved -> issued -> used | expired | cancelled; reserved -> failed (points returned)
    Column("state", String(16), nullable=False),
    Column("coupon_id", String(32), nullable=True),
    Column("coupon_body", JSON, nullable=False),  # what is sent to the shop, fixed at reservation
    Column("order_id", String(64), nullable=True),
    Column("channel", String(16), nullable=False),  # widget | admin
    Column("actor", String(200), nullable=False, default=""),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("failure_reason", Text, nullable=True),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("issued_at", UtcDateTime(), nullable=True),
    Column("closed_at", UtcDateTime(), nullable=True),
    # set when given up without the shop answering: a coupon of ours may exist under the code; look it up then
    Column("orphan_check_at", UtcDateTime(), nullable=True, index=True),
    UniqueConstraint("member_id", "request_key"),
    UniqueConstraint("shop_id", "code"),
    Index("ix_redemption_state_next_attempt_at", "state", "next_attempt_at"),
    Index("ix_redemption_state_expires_at", "state", "expires_at"),
    Index("ix_redemption_member_id_reward_id_created_at", "member_id", "reward_id", "created_at"),
    Index("ix_redemption_shop_id_order_id", "shop_id", "order_id"),
)

# --- issue 3: the life of a point (pending -> available -> expired), membership and birthdays ---
# When each order was paid and completed (caps, n-th order bonuses, the hold) and when its points were released.
order_state.append_column(Column("paid_at", UtcDateTime(), nullable=True))
order_state.append_column(Column("completed_at", UtcDateTime(), nullable=True))
order_state.append_column(Column("released_at", UtcDateTime(), nullable=True))
order_state.append_column(Column("evaluated_cycle", Integer, nullable=True))  # rules are evaluated once per cycle
Index("ix_order_state_released_at_completed_at", order_state.c.released_at, order_state.c.completed_at)
Index("ix_order_state_member_id_paid_at", order_state.c.member_id, order_state.c.paid_at)

member_profile = Table(
    "member_profile",
    metadata,
    Column("member_id", Id, ForeignKey("member.id"), primary_key=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("joined_at", UtcDateTime(), nullable=True),  # closed / invite-only programs: when the member got in
    Column("invited_by", String(200), nullable=True),
    Column("birthday", Date(), nullable=True),
    Column("tier", String(64), nullable=True),  # set by the tiers issue; the rules engine reads it
    Column("updated_at", UtcDateTime(), nullable=False),
)

point_event = Table(
    "point_event",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("member_id", Id, ForeignKey("member.id"), nullable=False),
    Column("kind", String(32), nullable=False),  # expiring_soon
    Column("event_key", String(255), nullable=False, unique=True),
    Column("points", BigInteger, nullable=False),
    Column("due_at", UtcDateTime(), nullable=True),
    Column("details", JSON, nullable=False, default=dict),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),  # for the notifications issue
    Index("ix_point_event_member_id_id", "member_id", "id"),
)

# --- issue 7: connected shops, their webhooks, reconciliation and backfill progress ---
shop_connection = Table(
    "shop_connection",
    metadata,
    Column("shop_id", String(64), ForeignKey("shop.id"), primary_key=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("url", String(500), nullable=False),
    Column("public_url", String(500), nullable=False),
    Column("credentials", Text, nullable=False),  # Fernet token (bridge.storage.secretbox): keys + webhook secret
    Column("state", String(16), nullable=False),  # connected | disconnected
    Column("connected_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

shop_webhook = Table(
    "shop_webhook",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("shop_id", String(64), ForeignKey("shop.id"), nullable=False),
    Column("topic", String(64), nullable=False),
    Column("platform_webhook_id", String(32), nullable=False),
    Column("delivery_url", String(500), nullable=False),
    Column("status", String(16), nullable=False),  # as last seen in the shop: active | paused | disabled | missing
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("checked_at", UtcDateTime(), nullable=True),
    UniqueConstraint("shop_id", "topic"),
)

sync_state = Table(
    "sync_state",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("shop_id", String(64), ForeignKey("shop.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # reconcile | backfill
    Column("state", String(16), nullable=False),  # idle | running | done
    # reconcile: orders modified up to the watermark are known to be in the ledger
    Column("watermark", UtcDateTime(), nullable=True),
    Column("window_start", UtcDateTime(), nullable=True),  # the run in progress (resumed after a crash)
    Column("window_end", UtcDateTime(), nullable=True),
    Column("phase", String(16), nullable=False, default=""),  # backfill: customers | orders
    Column("page", Integer, nullable=False, default=0),  # last page fully applied in the phase
    Column("options", JSON, nullable=False, default=dict),
    Column("stats", JSON, nullable=False, default=dict),
    Column("last_error", Text, nullable=True),
    Column("started_at", UtcDateTime(), nullable=True),
    Column("finished_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("shop_id", "kind"),
)

# --- issue 5: referrals ---
referral_code = Table(
    "referral_code",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("member_id", Id, ForeignKey("member.id"), nullable=False, index=True),
    Column("code", String(32), nullable=False),  # upper-case; matched case-insensitively
    Column("kind", String(16), nullable=False),  # generated | vanity
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("program_id", "code"),
)

referral_click = Table(
    "referral_click",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("shop_id", String(64), ForeignKey("shop.id"), nullable=True),
    Column("code", String(32), nullable=False),
    Column("member_id", Id, ForeignKey("member.id"), nullable=True),
    Column("ip_hash", String(32), nullable=False),  # keyed hashes: no raw personal data
    Column("ua_hash", String(32), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_referral_click_member_id_created_at", "member_id", "created_at"),
)

referral = Table(
    "referral",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("shop_id", String(64), ForeignKey("shop.id"), nullable=False),
    Column("referrer_member_id", Id, ForeignKey("member.id"), nullable=False),
    Column("code", String(32), nullable=False),
    Column("friend_key", String(320), nullable=False),  # folded e-mail: one referral per person, ever
    Column("friend_email", String(320), nullable=False),  # as the coupon is locked to it (trimmed, lower-case)
    Column("friend_member_id", Id, ForeignKey("member.id"), nullable=True),
    # claiming -> invited -> ordered -> qualified; claiming/invited/ordered -> rejected; claiming -> failed
    Column("state", String(16), nullable=False),
    Column("reason", String(64), nullable=False, default=""),
    Column("coupon_code", String(64), nullable=False),
    Column("coupon_id", String(32), nullable=True),
    Column("coupon_expires_at", UtcDateTime(), nullable=False),
    Column("order_id", String(64), nullable=True),
    Column("order_total", String(32), nullable=True),  # net of refunds
    Column("completed_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("ordered_at", UtcDateTime(), nullable=True),
    Column("qualified_at", UtcDateTime(), nullable=True),
    Column("rejected_at", UtcDateTime(), nullable=True),
    UniqueConstraint("program_id", "friend_key"),
    Index("ix_referral_shop_id_coupon_code", "shop_id", "coupon_code"),
    Index("ix_referral_referrer_member_id_created_at", "referrer_member_id", "created_at"),
    Index("ix_referral_state_completed_at", "state", "completed_at"),
    Index("ix_referral_shop_id_order_id", "shop_id", "order_id"),
)

member_contact = Table(
    "member_contact",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("member_id", Id, ForeignKey("member.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # phone | address
    Column("digest", String(64), nullable=False),  # keyed hash of the normalised value
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("member_id", "kind", "digest"),
    Index("ix_member_contact_program_id_kind_digest", "program_id", "kind", "digest"),
)

# --- issue 12: worker heartbeats (`/readyz`, `bridge status`: is a worker alive, is Redis reachable, since when) ---
worker_heartbeat = Table(
    "worker_heartbeat",
    metadata,
    Column("id", String(128), primary_key=True),  # host:pid:start, one row per worker process
    Column("hostname", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("beat_at", UtcDateTime(), nullable=False),
    Column("stopped_at", UtcDateTime(), nullable=True),  # a clean stop; a killed worker just stops beating
    Column("redis_down_since", UtcDateTime(), nullable=True),  # as this worker saw it; None: Redis answered
)

# --- issue 14: the program as data: published versions (append-only) and drafts ---
program_version = Table(
    "program_version",
    metadata,
    Column("program_id", String(64), ForeignKey("program.id"), primary_key=True),
    # 1, 2, 3 ...: the highest is the published one. The primary key makes two publishes of one number impossible.
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("document", JSON, nullable=False),  # the whole ``program:`` document, as in config.yaml
    Column("base_version", Integer, nullable=True),  # the version it was edited from (None: the first)
    Column("actor", String(200), nullable=False),  # api-key:<digest prefix>, cli or config
    Column("reason", Text, nullable=False, default=""),
    Column("created_at", UtcDateTime(), nullable=False),
)

program_draft = Table(
    "program_draft",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False, index=True),
    Column("document", JSON, nullable=False),
    Column("base_version", Integer, nullable=True),  # the published version when the draft was made
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("published_version", Integer, nullable=True),  # set once published
)

# Issue 14: shop settings that `bridge connect` does not manage, edited live (admin API, console) over config.yaml's.
shop_setting = Table(
    "shop_setting",
    metadata,
    Column("shop_id", String(64), ForeignKey("shop.id"), primary_key=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("widget_secret", Text, nullable=True),  # sealed (bridge.storage.secretbox); NULL: config.yaml's
    Column("allowed_origins", JSON, nullable=True),  # a list of origins; NULL: config.yaml's
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# --- issue 15: the owner console's accounts, server-side sessions and login throttle ---
console_user = Table(
    "console_user",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),  # trimmed and lower-cased: unique whatever the case
    Column("role", String(16), nullable=False),  # owner | staff | viewer
    Column("password_hash", String(255), nullable=False),  # Argon2id (argon2-cffi), the parameters inside
    Column("language", String(8), nullable=True),  # the console's language for this user; None: cookie or ?lang=
    Column("created_at", UtcDateTime(), nullable=False),
    Column("password_changed_at", UtcDateTime(), nullable=False),
    Column("disabled_at", UtcDateTime(), nullable=True),
    Column("last_login_at", UtcDateTime(), nullable=True),
)

console_session = Table(
    "console_session",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # sha256 of the random session id the cookie carries: a copy of this table opens no session.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Id, ForeignKey("console_user.id"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("ip", String(64), nullable=False, default=""),
    Column("user_agent", String(300), nullable=False, default=""),
    Index("ix_console_session_user_id_revoked_at", "user_id", "revoked_at"),
)

console_login_throttle = Table(
    "console_login_throttle",
    metadata,
    # One row per e-mail tried (known or not, so a lock says nothing about whether an account exists) and per IP.
    Column("kind", String(8), primary_key=True),  # email | ip
    Column("key", String(254), primary_key=True),
    Column("failures", Integer, nullable=False, default=0),  # within the window that started at window_start
    Column("window_start", UtcDateTime(), nullable=False),
    Column("locked_until", UtcDateTime(), nullable=True),
    Index("ix_console_login_throttle_window_start", "window_start"),
)

# --- issue 17: notifications: the transactional outbox, one delivery per (event, channel, target), opt-outs ---
domain_event = Table(
    "domain_event",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("shop_id", String(64), ForeignKey("shop.id"), nullable=True),
    Column("member_id", Id, ForeignKey("member.id"), nullable=True),
    Column("type", String(64), nullable=False),  # points_earned, reward_issued, ... (an open list)
    Column("key", String(255), nullable=False, unique=True),  # derived from the cause: written once, ever
    Column("payload", JSON, nullable=False, default=dict),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("planned_at", UtcDateTime(), nullable=True),  # fanned out to deliveries (None: not yet)
    Index("ix_domain_event_planned_at_id", "planned_at", "id"),
    Index("ix_domain_event_member_id_id", "member_id", "id"),
)

notification_delivery = Table(
    "notification_delivery",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("event_id", Id, ForeignKey("domain_event.id"), nullable=False),
    Column("member_id", Id, ForeignKey("member.id"), nullable=True),
    Column("channel", String(16), nullable=False),  # email | sms | webhook
    Column("target", String(64), nullable=False, default=""),  # the webhook endpoint's id; "" for member channels
    # pending -> sending -> sent | pending (retry) | dead; pending -> skipped (opted out, no address)
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("lease_until", UtcDateTime(), nullable=True),  # a claim not recorded by then is claimed again
    Column("claim", String(32), nullable=True),  # the claim's token: only its claimer records the outcome
    Column("last_error", Text, nullable=True),
    Column("provider_id", String(128), nullable=True),  # message id / provider's id, for support
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("event_id", "channel", "target"),  # never doubled
    Index("ix_notification_delivery_state_next_attempt_at_id", "state", "next_attempt_at", "id"),
    Index("ix_notification_delivery_member_id_sent_at", "member_id", "sent_at"),
    Index("ix_notification_delivery_target_member_id_id", "target", "member_id", "id"),
)

notification_optout = Table(
    "notification_optout",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("member_id", Id, ForeignKey("member.id"), nullable=False),
    Column("channel", String(16), nullable=False),  # email | sms
    Column("source", String(32), nullable=False),  # link (one-click unsubscribe) | admin
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("member_id", "channel"),
)

notification_preference = Table(
    "notification_preference",
    metadata,
    Column("member_id", Id, ForeignKey("member.id"), primary_key=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("phone", String(32), nullable=True),  # E.164-ish digits, set by the owner (admin API): SMS goes here only
    Column("locale", String(8), nullable=True),  # None: the program's `notifications.locale`
    Column("updated_at", UtcDateTime(), nullable=False),
)

# --- issue 19: GDPR erasure (pseudonymised members) and custom events ---
member_erasure = Table(
    "member_erasure",
    metadata,
    # The member row stays (its ledger keeps the accounts exact); this row says it was pseudonymised, when, by whom.
    Column("member_id", Id, ForeignKey("member.id"), primary_key=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("pseudonym", String(64), nullable=False, unique=True),  # the opaque id the member is shown under
    Column("actor", String(200), nullable=False),  # api-key:<digest prefix>, cli, or bridge:<shop> (customer.deleted)
    Column("source", String(32), nullable=False),  # admin | cli | customer.deleted
    Column("erased_at", UtcDateTime(), nullable=False),
)

member_event = Table(
    "member_event",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("shop_id", String(64), ForeignKey("shop.id"), nullable=True),
    Column("member_id", Id, ForeignKey("member.id"), nullable=False),
    Column("type", String(64), nullable=False),
    Column("request_key", String(128), nullable=False),  # the caller's idempotency_key
    Column("digest", String(64), nullable=False),  # sha256 of the request: the same key with another body is a 409
    Column("points", BigInteger, nullable=True),  # as requested (None: the event rules decided)
    Column("data", JSON, nullable=False, default=dict),
    Column("actor", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("program_id", "request_key"),
    Index("ix_member_event_member_id_type_created_at", "member_id", "type", "created_at"),
)

# --- issue 16: tiers and segments -----------------------------------------------------------------------------------
# A member's place on the program's ladder. ``tier_id`` is what counts (earning multiplier, rewards, the widget);
# ``earned_tier_id`` what earning alone gives (the two differ during an owner's override, which ends at
# ``override_until``). ``below_since``: a rolling window's member fell below their level then (grace counts from it);
# ``reviewed_period``: the last calendar period whose end was reviewed (one review, so at most one level, per end).
member_tier = Table(
    "member_tier",
    metadata,
    Column("member_id", Id, ForeignKey("member.id"), primary_key=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("tier_id", String(64), nullable=True),
    Column("source", String(16), nullable=False),  # earned | override
    Column("since", UtcDateTime(), nullable=False),
    Column("earned_tier_id", String(64), nullable=True),
    Column("override_until", UtcDateTime(), nullable=True),
    Column("below_since", UtcDateTime(), nullable=True),
    Column("reviewed_period", String(16), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_member_tier_program_id_tier_id_member_id", "program_id", "tier_id", "member_id"),
)

# Every change of a member's tier: from, to, why (qualified | review | override | override_end), when, by whom.
member_tier_history = Table(
    "member_tier_history",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("member_id", Id, ForeignKey("member.id"), nullable=False),
    Column("from_tier", String(64), nullable=True),
    Column("to_tier", String(64), nullable=True),
    Column("reason", String(32), nullable=False),
    Column("actor", String(200), nullable=False, default=""),
    Column("details", JSON, nullable=False, default=dict),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_member_tier_history_member_id_id", "member_id", "id"),
)

# Nightly segments: RFM quintiles (1-5) and the named RFM segment of each member who ordered, with the facts
# owner-defined segments read (last order, order count, total spent).
# No foreign keys (030_tierperf_derived_keys): derived from checked rows and rebuilt nightly; a key's trigger per row
# was most of the cost of writing 1M of them, and nothing ever deletes a member or a program.
member_segment = Table(
    "member_segment",
    metadata,
    Column("member_id", Id, primary_key=True),
    Column("program_id", String(64), nullable=False),
    Column("recency", Integer, nullable=False),
    Column("frequency", Integer, nullable=False),
    Column("monetary", Integer, nullable=False),
    Column("segment", String(64), nullable=False),
    Column("last_order_at", UtcDateTime(), nullable=True),
    Column("order_count", Integer, nullable=False),
    Column("spent_hundredths", BigInteger, nullable=False),  # net of refunds, x100 (no float, no SQLite Decimal)
    Column("scored_at", UtcDateTime(), nullable=False),
    Index("ix_member_segment_program_id_segment_member_id", "program_id", "segment", "member_id"),
)

# Who is in which segment (RFM and the owner's), refilled by the nightly scoring: listed by keyset, counted by group.
# No foreign keys, as ``member_segment``.
member_in_segment = Table(
    "member_in_segment",
    metadata,
    Column("program_id", String(64), primary_key=True),
    Column("segment_id", String(64), primary_key=True),
    Column("member_id", Id, primary_key=True),
    Index("ix_member_in_segment_member_id", "member_id"),  # a member's segments, read when a campaign asks
)


# --- issue 15/18: report rollups, kept exact by bridge/reports/rollup.py (a periodic job re-derives them) ---
# The reports read these for the days before ``rolled_until`` and the raw rows from then on.
report_rollup_state = Table(
    "report_rollup_state",
    metadata,
    Column("program_id", String(64), ForeignKey("program.id"), primary_key=True),
    Column("timezone", String(64), nullable=False),  # the days are this zone's; another zone: rebuilt
    Column("rolled_until", UtcDateTime(), nullable=True),  # a local midnight: rows created before it are rolled up
    Column("updated_at", UtcDateTime(), nullable=False),
)

report_daily_points = Table(
    "report_daily_points",
    metadata,
    Column("program_id", String(64), ForeignKey("program.id"), primary_key=True),
    Column("day", Date(), primary_key=True),  # in the program's time zone
    Column("shop_id", String(64), primary_key=True),  # "" for entries of no shop
    Column("kind", String(16), primary_key=True),
    Column("state", String(16), primary_key=True),
    Column("direction", String(1), primary_key=True),  # "+" or "-": the sign of the entries' points
    Column("points", BigInteger, nullable=False),  # the sum of the entries' points (signed)
    Column("entries", BigInteger, nullable=False),
)

report_daily_members = Table(
    "report_daily_members",
    metadata,
    Column("program_id", String(64), ForeignKey("program.id"), primary_key=True),
    Column("day", Date(), primary_key=True),
    Column("joined", BigInteger, nullable=False),  # member rows created that day
)

report_member_activity = Table(
    "report_member_activity",
    metadata,
    Column("member_id", Id, ForeignKey("member.id"), primary_key=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("last_active_at", UtcDateTime(), nullable=False),  # the latest earn or spend before rolled_until
    Index("ix_report_member_activity_program_id_last_active_at", "program_id", "last_active_at"),
)

# The rollup job and the reports' live tail read by creation time.
Index("ix_ledger_entry_created_at", ledger_entry.c.created_at)
Index("ix_member_program_id_created_at", member.c.program_id, member.c.created_at)

# --- issue 15: the console's member search, member timeline and redemption list (015_console_indexes) ---
Index("ix_member_identity_platform_customer_id", member_identity.c.platform_customer_id)
Index("ix_member_profile_program_id_tier", member_profile.c.program_id, member_profile.c.tier)
Index("ix_referral_friend_member_id", referral.c.friend_member_id)
Index("ix_audit_log_target", audit_log.c.program_id, audit_log.c.target_type, audit_log.c.target_id, audit_log.c.id)
Index("ix_redemption_state_id", redemption.c.state, redemption.c.id)

# --- issue 18: each order's net value, computed by the database (030_reportsperf_order_net): ``total -
# refunded_total``, at least 0, as a double (``bridge.reports.analytics.net_minor`` rounds it to minor units).
# Generated, so no writer can forget it; STORED on PostgreSQL, VIRTUAL on SQLite.
NET_AMOUNT = (
    "CASE WHEN CAST(total AS DOUBLE PRECISION) > CAST(refunded_total AS DOUBLE PRECISION) "
    "THEN CAST(total AS DOUBLE PRECISION) - CAST(refunded_total AS DOUBLE PRECISION) ELSE 0 END"
)
order_state.append_column(Column("net_amount", Float(precision=53), Computed(NET_AMOUNT), nullable=True))

# --- issue 18: the reports' ranges over orders and coupons (020_reports_a, 030_reportsperf_order_net) ---
# Every column the reports read of a paid order: a year of them is an index-only scan on PostgreSQL.
Index(
    "ix_order_state_program_id_paid_at_net",
    order_state.c.program_id,
    order_state.c.paid_at,
    order_state.c.member_id,
    order_state.c.status,
    order_state.c.shop_id,
    order_state.c.net_amount,
)
# The same in member order: each member's orders read already grouped (a streamed aggregate, not a hash of 1M).
Index(
    "ix_order_state_program_id_member_id_net",
    order_state.c.program_id,
    order_state.c.member_id,
    order_state.c.paid_at,
    order_state.c.status,
    order_state.c.shop_id,
    order_state.c.net_amount,
)
Index("ix_redemption_program_id_issued_at", redemption.c.program_id, redemption.c.issued_at)
Index(
    "ix_redemption_program_id_created_at",
    redemption.c.program_id,
    redemption.c.created_at,
    redemption.c.member_id,
    redemption.c.state,
)
# Each member's segments in member order, without the table (030_clvroi_segment_members): clv reads them merged with
# the members, a range of members at a time.
Index(
    "ix_member_in_segment_program_id_member_id_segment_id",
    member_in_segment.c.program_id,
    member_in_segment.c.member_id,
    member_in_segment.c.segment_id,
)

# --- issue 18: segment history for the rfm report (021_reports_segments), written by bridge/reports/segment_history.py
# at the first nightly scoring of each local month: how many members moved from which RFM segment to which.
report_segment_snapshot = Table(
    "report_segment_snapshot",
    metadata,
    Column("program_id", String(64), ForeignKey("program.id"), primary_key=True),
    Column("month", Date(), primary_key=True),  # first day of the program's local month
    Column("from_segment", String(64), primary_key=True),  # at the previous snapshot; "" when not scored then
    Column("to_segment", String(64), primary_key=True),  # now; "" when no longer scored
    Column("members", BigInteger, nullable=False),
)

# Each member's RFM segment at the latest snapshot: what the next month's movement is counted from.
# No foreign keys (030_tierperf_derived_keys, as ``member_segment``: a derived copy, rewritten monthly).
report_segment_member = Table(
    "report_segment_member",
    metadata,
    Column("member_id", Id, primary_key=True),
    Column("program_id", String(64), nullable=False),
    Column("segment", String(64), nullable=False),
    Column("month", Date(), nullable=False),
)


# --- issue 15: members' names (020_member_names) ---
# The member's display name and where it came from (``bridge/members/names.py``: the account's own name beats an
# order's billing name; a newer snapshot of the same source beats an older one). Erasure deletes the row.
member_name = Table(
    "member_name",
    metadata,
    Column("member_id", Id, ForeignKey("member.id"), primary_key=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("source", String(16), nullable=False),  # account | billing
    Column("source_modified", UtcDateTime(), nullable=True),  # the shop's date_modified of what carried it
    Column("updated_at", UtcDateTime(), nullable=False),
)

# One row per search word of a member's name (folded: ``bridge.members.names.words``). A prefix search is a range
# on ``(program_id, word)``; on PostgreSQL the column sorts by code point (collation "C") so that range, and
# ``LIKE 'x%'``, use the btree whatever the database's locale.
NameWord = String(64).with_variant(String(64, collation="C"), "postgresql")
member_name_word = Table(
    "member_name_word",
    metadata,
    Column("member_id", Id, ForeignKey("member.id"), primary_key=True),
    Column("word", NameWord, primary_key=True),
    Column("program_id", String(64), ForeignKey("program.id"), nullable=False),
    Index("ix_member_name_word_program_id_word", "program_id", "word", "member_id"),
)

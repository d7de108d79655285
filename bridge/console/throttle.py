"""Login throttle, per e-mail and per client address, kept in the database (it works while Redis is down).

After ``ACCOUNT_FAILURES`` failed logins for one e-mail within ``WINDOW``, that e-mail is locked for ``LOCK``;
after ``IP_FAILURES`` from one address, that address is. Unknown e-mails are counted and locked like real ones,
so the lock message tells nobody whether an account exists. While locked, a login is refused before the password
is looked at, so guessing on cannot extend or probe the lock. A success clears the e-mail's count, never the
address's (one valid account must not reset an address that is guessing others).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, select, update

from bridge.storage import db
from bridge.storage import tables as t
from bridge.storage.clock import utcnow

ACCOUNT_FAILURES = 5
IP_FAILURES = 20
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
_FORGET_AFTER = timedelta(days=1)  # rows idle this long are deleted (they can no longer matter)


@dataclass(frozen=True)
class Locked:
    kind: str  # "email" | "ip"
    until: datetime


def locked(engine: Engine, email: str, ip: str) -> Locked | None:
    """The lock in force for this e-mail or this address (the later one), if any."""
    c = t.console_login_throttle.c
    now = utcnow()
    with db.read(engine) as conn:
        rows = conn.execute(
            select(c.kind, c.locked_until).where(
                ((c.kind == "email") & (c.key == email)) | ((c.kind == "ip") & (c.key == ip)),
                c.locked_until > now,
            )
        ).all()
    if not rows:
        return None
    kind, until = max(rows, key=lambda row: row.locked_until)
    return Locked(kind, until)


def failed(conn: Connection, email: str, ip: str) -> Locked | None:
    """Count a failed login (inside the caller's write transaction); returns the lock it caused, if any."""
    now = utcnow()
    conn.execute(t.console_login_throttle.delete().where(t.console_login_throttle.c.window_start < now - _FORGET_AFTER))
    email_lock = _count(conn, "email", email, ACCOUNT_FAILURES, now)
    ip_lock = _count(conn, "ip", ip, IP_FAILURES, now)
    return email_lock or ip_lock


def succeeded(conn: Connection, email: str) -> None:
    c = t.console_login_throttle.c
    conn.execute(t.console_login_throttle.delete().where(c.kind == "email", c.key == email))


def _count(conn: Connection, kind: str, key: str, limit: int, now: datetime) -> Locked | None:
    c = t.console_login_throttle.c
    # Two first failures at once (PostgreSQL): one inserts, the other finds the row and waits for its lock.
    db.insert_or_ignore(
        conn, t.console_login_throttle, {"kind": kind, "key": key, "failures": 0, "window_start": now}, ["kind", "key"]
    )
    row = conn.execute(select(c.failures, c.window_start).where(c.kind == kind, c.key == key).with_for_update()).one()
    failures, window_start = row.failures, row.window_start
    if window_start + WINDOW <= now:  # the old window is over: count afresh
        failures, window_start = 0, now
    failures += 1
    if failures >= limit:
        until = now + LOCK
        conn.execute(
            update(t.console_login_throttle)
            .where(c.kind == kind, c.key == key)
            .values(failures=0, window_start=now, locked_until=until)
        )
        return Locked(kind, until)
    conn.execute(
        update(t.console_login_throttle)
        .where(c.kind == kind, c.key == key)
        .values(failures=failures, window_start=window_start)
    )
    return None

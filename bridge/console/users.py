"""Console users and their server-side sessions: the only code that writes ``console_user`` and
``console_session``.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile); a hash made with older
parameters is replaced at the next successful login. A session is a random id handed to the browser once (inside
the signed Flask session cookie) and stored here only as its SHA-256, so it can be revoked: disabling a user,
resetting a password and "log out everywhere" end every session of that user at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import IntegrityError

from bridge.console.routing import Role
from bridge.errors import BridgeError
from bridge.storage import audit, db
from bridge.storage import tables as t
from bridge.storage.clock import utcnow

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # Argon2 takes any length; a bound keeps a megabyte "password" from costing us
MAX_EMAIL_LENGTH = 254
SESSION_LIFETIME = timedelta(days=7)  # at most, from the login
SESSION_IDLE = timedelta(hours=12)  # a session unused this long has ended
LAST_SEEN_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often (not on every page)
FORGET_ENDED_SESSIONS = timedelta(days=30)  # ended sessions are kept this long (who was signed in, from where)

_hasher = PasswordHasher()  # Argon2id


class ConsoleUserError(BridgeError):
    code = "console_user_error"
    status = 400


class UnknownConsoleUser(BridgeError):
    code = "unknown_console_user"
    status = 404


@dataclass(frozen=True)
class ConsoleUser(UserMixin):  # type: ignore[misc]
    """The signed-in user of one request. Flask-Login's id is the *session* id, not the user's."""

    id: int
    email: str
    role: Role
    language: str | None
    session_id: int
    token: str

    def get_id(self) -> str:
        return self.token

    @property
    def actor(self) -> str:
        """How the audit log names this user."""
        return actor_for(self.email)


def actor_for(email: str) -> str:
    return f"console:{email}"


def normalize_email(raw: str) -> str:
    return raw.strip().lower()


def check_email(raw: str) -> str:
    email = normalize_email(raw)
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > MAX_EMAIL_LENGTH or any(c.isspace() for c in email):
        raise ConsoleUserError(f"not an e-mail address: {raw!r}")
    return email


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConsoleUserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ConsoleUserError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")


def generated_password() -> str:
    """A password for someone else to receive (and change): 16 URL-safe characters, 96 bits."""
    return secrets.token_urlsafe(12)


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def parse_role(raw: str) -> Role:
    try:
        return Role(raw.strip().lower())
    except ValueError:
        raise ConsoleUserError(f"unknown role {raw!r}: owner, staff or viewer") from None


# --- users -------------------------------------------------------------------------------------------------------


def add(engine: Engine, program_id: str, *, email: str, role: Role, password: str, actor: str) -> dict[str, Any]:
    email = check_email(email)
    password_hash = hash_password(password)  # before the transaction: hashing takes tens of milliseconds
    now = utcnow()
    try:
        with db.write(engine) as conn:
            user_id = conn.execute(
                t.console_user.insert()
                .values(email=email, role=role.value, password_hash=password_hash, created_at=now)
                .values(password_changed_at=now)
                .returning(t.console_user.c.id)
            ).scalar_one()
            _audit(conn, program_id, actor, "console_user.added", user_id, {"email": email, "role": role.value})
    except IntegrityError:
        raise ConsoleUserError(f"a console user {email} already exists") from None
    return {"id": user_id, "email": email, "role": role.value}


def listing(engine: Engine) -> list[dict[str, Any]]:
    c = t.console_user.c
    with db.read(engine) as conn:
        rows = conn.execute(
            select(c.id, c.email, c.role, c.language, c.created_at, c.last_login_at, c.disabled_at).order_by(c.id)
        ).mappings()
        return [dict(row) for row in rows]


def find(conn: Connection, email: str) -> dict[str, Any] | None:
    row = conn.execute(select(t.console_user).where(t.console_user.c.email == normalize_email(email))).mappings()
    found = row.first()
    return dict(found) if found else None


def by_id(engine: Engine, user_id: int) -> dict[str, Any]:
    with db.read(engine) as conn:
        row = conn.execute(select(t.console_user).where(t.console_user.c.id == user_id)).mappings().first()
    if row is None:
        raise UnknownConsoleUser(f"no console user {user_id}")
    return dict(row)


class LastOwner(BridgeError):
    code = "last_owner"
    status = 409


def _keep_an_owner(conn: Connection, user: dict[str, Any]) -> None:
    """Refuse to disable or demote the last active owner: nobody could manage the console any more."""
    c = t.console_user.c
    if user["role"] != Role.OWNER.value or user["disabled_at"] is not None:
        return
    others = conn.execute(
        select(c.id).where(c.role == Role.OWNER.value, c.disabled_at.is_(None), c.id != user["id"]).limit(1)
    ).first()
    if others is None:
        raise LastOwner(f"{user['email']} is the last active owner: make another owner first")


def exists_any(engine: Engine) -> bool:
    with db.read(engine) as conn:
        return conn.execute(select(t.console_user.c.id).limit(1)).first() is not None


def disable(engine: Engine, program_id: str, email: str, *, actor: str) -> dict[str, Any]:
    now = utcnow()
    with db.write(engine) as conn:
        user = _existing(conn, email)
        _keep_an_owner(conn, user)
        if user["disabled_at"] is None:
            conn.execute(update(t.console_user).where(t.console_user.c.id == user["id"]).values(disabled_at=now))
        ended = _revoke_all(conn, user["id"], now)
        _audit(
            conn, program_id, actor, "console_user.disabled", user["id"], {"email": user["email"], "sessions": ended}
        )
    return {"id": user["id"], "email": user["email"], "sessions_ended": ended}


def enable(engine: Engine, program_id: str, email: str, *, actor: str) -> dict[str, Any]:
    with db.write(engine) as conn:
        user = _existing(conn, email)
        conn.execute(update(t.console_user).where(t.console_user.c.id == user["id"]).values(disabled_at=None))
        _audit(conn, program_id, actor, "console_user.enabled", user["id"], {"email": user["email"]})
    return {"id": user["id"], "email": user["email"]}


def set_role(engine: Engine, program_id: str, email: str, role: Role, *, actor: str) -> dict[str, Any]:
    """A new role, effective on the user's next request (the role is read with the session, never cached)."""
    with db.write(engine) as conn:
        user = _existing(conn, email)
        if role != Role.OWNER:
            _keep_an_owner(conn, user)
        conn.execute(update(t.console_user).where(t.console_user.c.id == user["id"]).values(role=role.value))
        details = {"email": user["email"], "from": user["role"], "to": role.value}
        _audit(conn, program_id, actor, "console_user.role", user["id"], details)
    return {"id": user["id"], "email": user["email"], "role": role.value}


def reset_password(engine: Engine, program_id: str, email: str, password: str, *, actor: str) -> dict[str, Any]:
    password_hash = hash_password(password)
    now = utcnow()
    with db.write(engine) as conn:
        user = _existing(conn, email)
        conn.execute(
            update(t.console_user)
            .where(t.console_user.c.id == user["id"])
            .values(password_hash=password_hash, password_changed_at=now)
        )
        ended = _revoke_all(conn, user["id"], now)
        conn.execute(  # a reset also lifts a lock: the owner who reset it vouches for the person
            t.console_login_throttle.delete().where(
                t.console_login_throttle.c.kind == "email", t.console_login_throttle.c.key == user["email"]
            )
        )
        _audit(
            conn,
            program_id,
            actor,
            "console_user.password_reset",
            user["id"],
            {"email": user["email"], "sessions": ended},
        )
    return {"id": user["id"], "email": user["email"], "sessions_ended": ended}


def change_own_password(engine: Engine, program_id: str, user: ConsoleUser, password: str) -> int:
    """The signed-in user's new password; their *other* sessions end (this one goes on). Returns how many."""
    password_hash = hash_password(password)
    now = utcnow()
    s = t.console_session.c
    with db.write(engine) as conn:
        conn.execute(
            update(t.console_user)
            .where(t.console_user.c.id == user.id)
            .values(password_hash=password_hash, password_changed_at=now)
        )
        ended = conn.execute(
            update(t.console_session)
            .where(s.user_id == user.id, s.revoked_at.is_(None), s.id != user.session_id)
            .values(revoked_at=now)
        ).rowcount
        _audit(conn, program_id, user.actor, "console_user.password_changed", user.id, {"sessions": ended})
    return int(ended)


def set_language(engine: Engine, program_id: str, user: ConsoleUser, language: str | None) -> None:
    with db.write(engine) as conn:
        conn.execute(update(t.console_user).where(t.console_user.c.id == user.id).values(language=language))
        _audit(conn, program_id, user.actor, "console_user.language", user.id, {"language": language})


def _existing(conn: Connection, email: str) -> dict[str, Any]:
    user = find(conn, email)
    if user is None:
        raise UnknownConsoleUser(f"no console user {normalize_email(email)}")
    return user


def _audit(conn: Connection, program_id: str, actor: str, action: str, user_id: int, details: dict[str, Any]) -> None:
    audit.record(
        conn,
        program_id=program_id,
        actor=actor,
        action=action,
        target_type="console_user",
        target_id=str(user_id),
        details=details,
    )


# --- passwords ---------------------------------------------------------------------------------------------------

_dummy_hash: str | None = None


def verify(user: dict[str, Any] | None, password: str) -> bool:
    """Whether ``password`` is ``user``'s. An unknown user is verified against a dummy hash, so the answer takes
    about as long as for a real account and says nothing about which e-mails exist."""
    global _dummy_hash
    if user is None:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
        stored = _dummy_hash
    else:
        stored = str(user["password_hash"])
    try:
        return _hasher.verify(stored, password[:MAX_PASSWORD_LENGTH]) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(user: dict[str, Any]) -> bool:
    return _hasher.check_needs_rehash(str(user["password_hash"]))


# --- sessions ----------------------------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    engine: Engine, program_id: str, user: dict[str, Any], *, ip: str, user_agent: str, password: str | None = None
) -> str:
    """A new session for ``user`` (after a verified login); returns the id the cookie carries."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    rehashed = _hasher.hash(password) if password is not None and needs_rehash(user) else None
    with db.write(engine) as conn:
        conn.execute(
            t.console_session.insert().values(
                token_hash=_token_hash(token),
                user_id=user["id"],
                created_at=now,
                last_seen_at=now,
                expires_at=now + SESSION_LIFETIME,
                ip=ip[:64],
                user_agent=user_agent[:300],
            )
        )
        # This user's sessions that ended long ago go (the table stays as small as the number of live sessions).
        conn.execute(
            t.console_session.delete().where(
                t.console_session.c.user_id == user["id"],
                (t.console_session.c.expires_at < now - FORGET_ENDED_SESSIONS)
                | (t.console_session.c.revoked_at < now - FORGET_ENDED_SESSIONS),
            )
        )
        values: dict[str, Any] = {"last_login_at": now}
        if rehashed:
            values["password_hash"] = rehashed
        conn.execute(update(t.console_user).where(t.console_user.c.id == user["id"]).values(**values))
        _audit(conn, program_id, actor_for(user["email"]), "console.login", user["id"], {"ip": ip[:64]})
    return token


def session_user(engine: Engine, token: str) -> ConsoleUser | None:
    """The user of a live session: not revoked, not expired, not idle too long, the user not disabled."""
    if not token or len(token) > 128:
        return None
    s, u = t.console_session.c, t.console_user.c
    now = utcnow()
    with db.read(engine) as conn:
        row = (
            conn.execute(
                select(s.id, s.last_seen_at, u.id.label("user_id"), u.email, u.role, u.language)
                .join(t.console_user, u.id == s.user_id)
                .where(s.token_hash == _token_hash(token), s.revoked_at.is_(None), s.expires_at > now)
                .where(u.disabled_at.is_(None))
            )
            .mappings()
            .first()
        )
    if row is None or row["last_seen_at"] + SESSION_IDLE <= now:
        return None
    if row["last_seen_at"] + LAST_SEEN_EVERY <= now:
        with db.write(engine) as conn:
            conn.execute(update(t.console_session).where(s.id == row["id"]).values(last_seen_at=now))
    return ConsoleUser(row["user_id"], row["email"], Role(row["role"]), row["language"], row["id"], token)


def end_session(engine: Engine, program_id: str, user: ConsoleUser) -> None:
    now = utcnow()
    with db.write(engine) as conn:
        conn.execute(
            update(t.console_session)
            .where(t.console_session.c.id == user.session_id, t.console_session.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        _audit(conn, program_id, user.actor, "console.logout", user.id, {})


def end_all_sessions(engine: Engine, program_id: str, user: ConsoleUser) -> int:
    """Log out everywhere: every session of this user ends, this one too."""
    now = utcnow()
    with db.write(engine) as conn:
        ended = _revoke_all(conn, user.id, now)
        _audit(conn, program_id, user.actor, "console.logout_everywhere", user.id, {"sessions": ended})
    return ended


def live_sessions(engine: Engine, user_id: int) -> list[dict[str, Any]]:
    s = t.console_session.c
    now = utcnow()
    with db.read(engine) as conn:
        rows = conn.execute(
            select(s.id, s.created_at, s.last_seen_at, s.ip, s.user_agent)
            .where(
                s.user_id == user_id, s.revoked_at.is_(None), s.expires_at > now, s.last_seen_at > now - SESSION_IDLE
            )
            .order_by(s.id.desc())
            .limit(50)
        ).mappings()
        return [dict(row) for row in rows]


def _revoke_all(conn: Connection, user_id: int, now: datetime) -> int:
    result = conn.execute(
        update(t.console_session)
        .where(t.console_session.c.user_id == user_id, t.console_session.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount)

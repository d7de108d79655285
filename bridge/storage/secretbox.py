"""Encryption at rest for shop credentials (consumer key/secret, webhook secret).

Fernet (AES-128-CBC + HMAC-SHA256, authenticated). The key comes from ``secret_key`` in the configuration (or
``BRIDGE_SECRET_KEY``); without one, a random key is created once in ``data_dir/secret.key`` (mode 0600). Losing
that key means reconnecting the shops (``bridge connect``), never losing points: the ledger is not encrypted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from bridge.config import Settings
from bridge.errors import BridgeError

KEY_FILE = "secret.key"


class SecretKeyError(BridgeError):
    code = "secret_key_error"
    status = 500


class SecretBox:
    def __init__(self, key_material: str) -> None:
        from cryptography.fernet import Fernet  # with the first box: a bridge without connected shops never needs it

        digest = hashlib.sha256(key_material.encode()).digest()  # any long string -> a 32-byte Fernet key
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))
        self._hash_key = hashlib.sha256(b"keyed-digest:" + key_material.encode()).digest()

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def digest(self, value: str, length: int = 32) -> str:
        """A keyed hash (HMAC-SHA256) of ``value``: comparable, not reversible without this installation's key."""
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()[:length]

    def seal(self, values: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(values, sort_keys=True).encode()).decode()

    def open(self, token: str) -> dict[str, Any]:
        from cryptography import fernet

        try:
            data = json.loads(self._fernet.decrypt(token.encode()))
        except fernet.InvalidToken as exc:
            raise SecretKeyError(
                "stored shop credentials cannot be decrypted with this secret key: restore the key that sealed "
                "them (secret_key / data_dir/secret.key) or run `bridge connect` again"
            ) from exc
        if not isinstance(data, dict):
            raise SecretKeyError("stored shop credentials are not a mapping")
        return data


_BOXES: dict[str, SecretBox] = {}
"""Boxes by key source: the observer and the click endpoint need one per call, the key file is read once."""


def box_for(settings: Settings, *, create: bool) -> SecretBox | None:
    """The box of this installation; None when no key exists yet and ``create`` is false."""
    if settings.secret_key:
        return _cached(f"config:{hashlib.sha256(settings.secret_key.encode()).hexdigest()}", settings.secret_key)
    path = Path(settings.data_dir) / KEY_FILE
    known = _BOXES.get(f"file:{path.resolve()}")
    if known is not None:
        return known
    if path.exists():
        return _cached(f"file:{path.resolve()}", path.read_text(encoding="ascii").strip())
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return _cached(f"file:{path.resolve()}", path.read_text(encoding="ascii").strip())
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return _cached(f"file:{path.resolve()}", key)


def _cached(source: str, key_material: str) -> SecretBox:
    box = _BOXES.get(source)
    if box is None:
        box = _BOXES[source] = SecretBox(key_material)
    return box

"""Signed one-click unsubscribe links: ``<public_url>/u/<member>.<channel>.<keyed hash>``.

The hash is this installation's keyed digest (``SecretBox.digest``) of the program, member and channel: nobody
can unsubscribe someone else by guessing a link, and a link keeps working as long as the key does.
"""

from __future__ import annotations

import hmac

from bridge.config import Settings
from bridge.notifications.settings import MEMBER_CHANNELS
from bridge.storage.secretbox import box_for


def _digest(settings: Settings, member_id: int, channel: str) -> str:
    box = box_for(settings, create=True)
    assert box is not None
    return box.digest(f"unsubscribe:{settings.program.id}:{member_id}:{channel}", 32)


def token(settings: Settings, member_id: int, channel: str) -> str:
    return f"{member_id}.{channel}.{_digest(settings, member_id, channel)}"


def url(settings: Settings, member_id: int, channel: str) -> str:
    """The link, or "" when the bridge has no ``public_url`` (then no List-Unsubscribe header either)."""
    if not settings.public_url:
        return ""
    return f"{settings.public_url}/u/{token(settings, member_id, channel)}"


def read(settings: Settings, value: str) -> tuple[int, str] | None:
    """(member id, channel) of a genuine token, else None."""
    member, _, rest = value.partition(".")
    channel, _, digest = rest.partition(".")
    if not member.isdigit() or len(member) > 18 or channel not in MEMBER_CHANNELS or not digest:
        return None
    if not hmac.compare_digest(digest, _digest(settings, int(member), channel)):
        return None
    return int(member), channel

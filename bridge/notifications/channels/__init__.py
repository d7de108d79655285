"""The ways a message leaves the bridge: e-mail (SMTP), SMS providers, the owner's webhooks.

Every sender is called by the dispatcher with no database transaction open and asks ``write_guard`` before it
touches the network (ADR 0009). A sender returns one ``Outcome`` per message and never raises for a failed
message: ``permanent`` failures are dead-lettered at once, the others retried with backoff.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge import write_guard


@dataclass(frozen=True)
class Outcome:
    ok: bool
    provider_id: str = ""
    error: str = ""
    permanent: bool = False


def guard(what: str) -> None:
    """ADR 0009: no network call while this thread holds a database write transaction."""
    if write_guard.write_open():
        write_guard.network_in_write(what)


def requests_errors() -> type[Exception]:
    """requests' base error, imported on the first send (see the channels' modules)."""
    import requests

    return requests.RequestException

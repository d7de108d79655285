"""No network call while this thread holds a database write transaction.

A shop that hangs must not hold the database's write lock with it: on SQLite one writer locks the whole file,
so a 10 s wait for the shop inside ``db.write`` made every webhook wait too, and WooCommerce drops a delivery
it could not hand over (issue 12, section 3). So a shop call happens before the write transaction opens
(prefetch) or after it commits (reserve, call, confirm).

``bridge.storage.db`` marks the thread while a write transaction is open (``writing``); the shop's HTTP client
asks ``write_open`` before every request and reports a violation with ``network_in_write``. The check is one
``ContextVar.get``: nothing next to a network round trip. A violation raises ``NetworkInWriteTransaction`` when
``strict`` is on (the test suite turns it on, so a regression fails tests) and is logged with its call stack
otherwise, so a production process keeps working as before while its log says where the rule is broken.

This module imports nothing of ours, so both the storage layer and the connectors may use it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

log = logging.getLogger(__name__)

_OPEN_WRITES: ContextVar[int] = ContextVar("bridge_open_write_transactions", default=0)

strict = False
"""Raise on a violation instead of logging it: the test suite sets it (``tests/conftest.py``)."""


class NetworkInWriteTransaction(RuntimeError):
    """A network call was about to start while this thread held a database write transaction."""


@contextmanager
def writing() -> Iterator[None]:
    """Mark this thread (context) as holding a write transaction until the block ends."""
    token = _OPEN_WRITES.set(_OPEN_WRITES.get() + 1)
    try:
        yield
    finally:
        _OPEN_WRITES.reset(token)


def write_open() -> bool:
    """Whether this thread holds a database write transaction now."""
    return _OPEN_WRITES.get() > 0


def network_in_write(what: str) -> None:
    """A network call (``what`` names it, without secrets) is about to start inside a write: raise or log it."""
    message = f"{what} while a database write transaction is open: the write lock would wait for the network"
    if strict:
        raise NetworkInWriteTransaction(message)
    log.error(message, stack_info=True)

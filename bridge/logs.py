"""Logging set-up: one line per event, to stderr. Secrets are never passed to a logger in the first place.

As a safety net, ``RedactSecrets`` takes shop API credentials out of every record, whoever logs it: the query
parameters of an OAuth-signed shop URL (``oauth_*``, ``consumer_key``, ``consumer_secret``) and anything shaped
like a WooCommerce REST key (``ck_``/``cs_`` + 40 hex digits), in the message and in the formatted traceback.
It runs from the log-record factory rather than as a handler filter: a filter on a logger does not see records
propagated from its children, and RQ and gunicorn log through handlers of their own.
"""

from __future__ import annotations

import logging
import re
from typing import Any

FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"

REDACTED = "[redacted]"
_SECRET_PARAM = re.compile(r"(?i)\b(oauth_[a-z_]*|consumer_key|consumer_secret)(=|%3D)[^&\s'\"<>#]*")
_REST_KEY = re.compile(r"\b(ck|cs)_[0-9a-fA-F]{40}\b")


def redact(text: str) -> str:
    """``text`` without shop API credentials (see the module's note)."""
    text = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _REST_KEY.sub(lambda m: f"{m.group(1)}_{REDACTED}", text)


class RedactSecrets(logging.Filter):
    """Rewrites a record's message, traceback and stack without shop API credentials; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string is the handler's to report, not ours
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_redaction() -> None:
    """Every record made from now on, by any logger, goes through ``RedactSecrets`` (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts_secrets", False):
        return
    redactor = RedactSecrets()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redactor.filter(record)
        return record

    factory.redacts_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def configure(level: str) -> None:
    install_redaction()
    root = logging.getLogger()
    if not any(getattr(h, "_bridge", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._bridge = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)

"""Logging set-up: one line per event, to stderr, as text or (``log_format: json``) as one JSON object per line.
Secrets are never passed to a logger in the first place.

As a safety net, ``RedactSecrets`` takes shop API credentials out of every record, whoever logs it: the query
parameters of an OAuth-signed shop URL (``oauth_*``, ``consumer_key``, ``consumer_secret``) and anything shaped
like a WooCommerce REST key (``ck_``/``cs_`` + 40 hex digits), in the message and in the formatted traceback.
It runs from the log-record factory rather than as a handler filter: a filter on a logger does not see records
propagated from its children, and RQ and gunicorn log through handlers of their own. The same factory masks
e-mail addresses (``carol@example.com`` -> ``c***@example.com``: enough to tell two shoppers apart in a log,
not enough to write to one) and stamps the record with the request id (``bridge.observability.request_id``);
the formatters mask the finished line once more, for fields a library added to the record.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from bridge.observability import request_id

FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"
FORMATS = ("text", "json")
JSON_FIELDS = ("asctime", "levelname", "process", "name", "message", "request_id")
JSON_NAMES = {"asctime": "time", "levelname": "level", "process": "pid", "name": "logger"}

REDACTED = "[redacted]"
_SECRET_PARAM = re.compile(r"(?i)\b(oauth_[a-z_]*|consumer_key|consumer_secret)(=|%3D)[^&\s'\"<>#]*")
_REST_KEY = re.compile(r"\b(ck|cs)_[0-9a-fA-F]{40}\b")


_EMAIL = re.compile(r"(?<![\w.%+-])([\w%+-])[\w.%+-]*?(@|%40)((?:[A-Za-z0-9-]+\.)+[A-Za-z0-9-]{2,})", re.IGNORECASE)
"""An address, also URL-encoded (``carol%40example.com`` in a logged query string)."""


def redact(text: str) -> str:
    """``text`` without shop API credentials and with every e-mail address masked (see the module's note)."""
    text = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return mask_emails(_REST_KEY.sub(lambda m: f"{m.group(1)}_{REDACTED}", text))


def mask_emails(text: str) -> str:
    """``carol@example.com`` -> ``c***@example.com`` (and ``carol%40example.com`` -> ``c***%40example.com``)."""
    return _EMAIL.sub(r"\1***\2\3", text) if "@" in text or "%40" in text else text


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
        record.request_id = request_id.current()
        return record

    factory.redacts_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class TextFormatter(logging.Formatter):
    """``FORMAT``, plus `` [request <id>]`` on a line logged while a request or its job runs."""

    def __init__(self) -> None:
        super().__init__(FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", "")
        if rid:
            head, _, rest = line.partition("\n")  # after the message, before a traceback
            line = f"{head} [request {rid}]" + (f"\n{rest}" if rest else "")
        return mask_emails(line)


class JsonLineFormatter(JsonFormatter):
    """One JSON object per line: time, level, pid, logger, message, request_id (and ``exc_info`` text)."""

    def __init__(self) -> None:
        super().__init__(list(JSON_FIELDS), rename_fields=JSON_NAMES, defaults={"request_id": ""})

    def jsonify_log_record(self, log_data: Any) -> str:
        return mask_emails(super().jsonify_log_record(log_data))


def formatter(log_format: str = "text") -> logging.Formatter:
    """The bridge's formatter for ``log_format`` (``text`` or ``json``)."""
    if log_format not in FORMATS:
        raise ValueError(f"log_format must be one of {', '.join(FORMATS)}")
    return JsonLineFormatter() if log_format == "json" else TextFormatter()


def configure(level: str, log_format: str = "text") -> None:
    install_redaction()
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_bridge", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler._bridge = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    handler.setFormatter(formatter(log_format))
    root.setLevel(level)

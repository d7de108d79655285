"""Logging set-up: one line per event, to stderr. Secrets are never passed to a logger in the first place."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"


def configure(level: str) -> None:
    root = logging.getLogger()
    if not any(getattr(h, "_bridge", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._bridge = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)

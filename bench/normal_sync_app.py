"""The bridge as it was before acknowledged meant durable: SQLite ``synchronous=NORMAL`` (for an A/B in one run).

.venv/bin/python bench/ingest.py --with-normal-sync
"""

from __future__ import annotations

from bridge import create_app
from bridge.storage import db

db.SQLITE_SYNCHRONOUS = "NORMAL"  # read by each new connection: WAL, no fsync at commit
app = create_app()

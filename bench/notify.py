"""Notification dispatch benchmark: messages sent per second to a loopback SMTP server and webhook receiver.

    .venv/bin/python bench/notify.py [--db sqlite|postgresql|both] [--events 20000] [--batch 500]

Writes ``--events`` ``points_earned`` events (one per member, each member with an e-mail the shop vouches for)
through the outbox, configured for e-mail and one webhook endpoint, then runs the dispatcher's own function
(``bridge.notifications.dispatcher.dispatch``) until nothing is due. The SMTP server is aiosmtpd and the receiver a
threaded ``http.server`` that checks every Standard Webhooks signature (tests/support), both in a child process
(as they would be on another machine: they must not take the dispatcher's CPU). Checks that every event reached
both exactly once. Target: >= 500 messages/s. Prints figures and exits 0.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from bench.common import bench_settings, databases  # noqa: E402
from bridge import features  # noqa: E402
from bridge.bootstrap import prepare_database  # noqa: E402
from bridge.notifications import outbox  # noqa: E402
from bridge.notifications.dispatcher import dispatch  # noqa: E402
from bridge.runtime import Runtime  # noqa: E402
from bridge.storage import db  # noqa: E402
from bridge.storage import tables as t  # noqa: E402
from bridge.storage.clock import utcnow  # noqa: E402
from tests.support.mailbox import Mailbox  # noqa: E402
from tests.support.receiver import SECRET, Receiver  # noqa: E402

TARGET = 500.0


def servers(
    ports: multiprocessing.Queue[tuple[int, str]],
    results: multiprocessing.Queue[tuple[int, list[tuple[str, bool]]]],
    stop: multiprocessing.Event,
) -> None:  # type: ignore[type-arg]
    """The SMTP server and the receiver, in a child process; reports what they got once told to stop."""
    mailbox, receiver = Mailbox().start(), Receiver().start()
    ports.put((mailbox.port, receiver.url))
    stop.wait()
    mailbox.stop()
    receiver.stop()
    results.put((len(mailbox.raw), [(r.id, r.verified) for r in receiver.received]))


def run(database_url: str, data_dir: Path, count: int, batch: int) -> float:
    ctx = multiprocessing.get_context("fork")
    ports, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    child = ctx.Process(target=servers, args=(ports, results, stop), daemon=True)
    child.start()
    smtp_port, receiver_url = ports.get(timeout=30)
    notifications = {
        "email": {"host": "127.0.0.1", "port": smtp_port, "security": "none", "from_address": "club@bench.test"},
        "webhooks": [{"id": "crm", "url": receiver_url, "secret": SECRET}],
        "events": {"points_earned": {"channels": ["email", "webhook"]}},
        "batch_size": batch,
    }
    features.load()
    settings = bench_settings(
        database_url, data_dir, {"public_url": "https://loyalty.bench", "notifications": notifications}
    )
    rt = Runtime.build(settings)
    prepare_database(rt, migrate_schema=True)
    program_id, now = rt.settings.program.id, utcnow()
    try:
        with db.write(rt.engine) as conn:
            rows = [
                {
                    "program_id": program_id,
                    "email": f"m{i}@bench.test",
                    "email_key": f"m{i}@bench.test",
                    "created_at": now,
                }
                for i in range(count)
            ]
            conn.execute(insert(t.member), rows)
            ids = list(conn.scalars(select(t.member.c.id).order_by(t.member.c.id)))
            outbox.add_many(
                conn,
                [
                    outbox.NewEvent(
                        program_id, "points_earned", f"bench:{m}:points_earned", m, {"points": 10, "order_id": str(m)}
                    )
                    for m in ids
                ],
            )
        started = time.perf_counter()
        totals = dispatch(rt, utcnow())
        elapsed = time.perf_counter() - started
        with db.read(rt.engine) as conn:
            states = dict(
                conn.execute(
                    select(t.notification_delivery.c.state, func.count()).group_by(t.notification_delivery.c.state)
                ).all()
            )
    finally:
        rt.close()
        stop.set()
    emails, hooks = results.get(timeout=60)
    child.join(timeout=10)
    messages = emails + len(hooks)
    ids_seen = Counter(message_id for message_id, _ in hooks)
    doubled = sum(1 for n in ids_seen.values() if n > 1)
    bad = sum(1 for _, verified in hooks if not verified)
    rate = messages / elapsed
    sys.stdout.write(
        f"  {count} events -> {emails} e-mails + {len(hooks)} webhooks in {elapsed:.1f} s"
        f" = {rate:,.0f} messages/s; deliveries {states}; doubled webhooks {doubled}; bad signatures {bad};"
        f" dispatcher {totals}\n"
    )
    assert emails == count and len(hooks) == count and doubled == 0 and bad == 0
    assert states == {"sent": 2 * count}
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for label, url in databases(args.db, Path(tmp)):
            sys.stdout.write(f"{label}:\n")
            rate = run(url, Path(tmp), args.events, args.batch)
            verdict = "meets" if rate >= TARGET else "MISSES"
            sys.stdout.write(f"  {verdict} the target of {TARGET:.0f} messages/s\n")


if __name__ == "__main__":
    main()

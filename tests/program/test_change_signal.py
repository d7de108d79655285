"""Every long-running process hears a publish or a connection change at once (Redis pub/sub), and polls the
database when Redis cannot tell it (issue 14)."""

from __future__ import annotations

import time
from collections.abc import Callable

from bridge.sync import changes
from tests.program.conftest import draft, publish, published, with_rate
from tests.support.client import Bridge

WAIT_SECONDS = 5.0  # the bound for every process to see a publish


def wait_until(condition: Callable[[], bool], seconds: float = WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_a_listening_process_applies_a_publish_without_being_asked(make_bridge: Callable[..., Bridge]) -> None:
    web, worker = make_bridge(), make_bridge()  # two runtimes over one database and one Redis: two processes
    rt = worker.rt
    rt.follow_changes()
    assert wait_until(lambda: rt._listener is not None and rt._listener.subscribed.is_set())
    rt._shops_check_due = float("inf")  # no poll will come: only the signal can move this process

    doubled = draft(web, with_rate(published(web)["program"], "2"))
    assert publish(web, doubled["id"]) == 2

    # Nobody calls into the worker's runtime: its listener thread read the new version by itself.
    assert wait_until(lambda: rt.program_version == 2)
    assert rt.settings.program.earn.points_per_currency_unit == 2
    assert rt._check_period() == changes.SUBSCRIBED_CHECK_SECONDS  # while it hears, requests rarely poll


def test_without_redis_the_listener_waits_and_requests_poll_every_few_seconds(
    make_bridge: Callable[..., Bridge],
) -> None:
    web = make_bridge()
    unreachable = make_bridge(redis_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    rt = unreachable.rt
    rt.follow_changes()
    listener = rt._listener
    assert listener is not None
    assert not wait_until(listener.subscribed.is_set, 0.5)
    assert listener.is_alive()  # it keeps trying, the process keeps working
    assert rt._check_period() == rt.SHOPS_CHECK_SECONDS

    doubled = draft(web, with_rate(published(web)["program"], "2"))
    assert publish(web, doubled["id"]) == 2
    rt._shops_check_due = float("-inf")  # SHOPS_CHECK_SECONDS pass: the next request's check finds it
    rt.reload_shops()
    assert rt.program_version == 2


def test_announce_is_false_when_redis_is_down_and_the_change_still_commits(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(redis_url="redis://127.0.0.1:1/0")
    doubled = draft(bridge, with_rate(published(bridge)["program"], "2"))
    assert publish(bridge, doubled["id"]) == 2  # published and applied here; the others poll for it
    assert changes.announce(bridge.rt, "program") is False
    assert bridge.rt.program_version == 2

"""A drain job taken by a worker that was then killed leaves its "drain pending" flag behind: the sweeper must not
wait out the flag's TTL before the deliveries are applied."""

from __future__ import annotations

from bridge.jobs.queue import drain_flag, make_queue
from bridge.jobs.sweeper import sweep
from tests.support import woo
from tests.support.client import SHOP, Bridge


def test_the_sweeper_enqueues_a_drain_whose_job_died_with_its_worker(bridge: Bridge) -> None:
    # given a delivery whose drain job a worker took from the queue (BLPOP) and then died with (kill -9)
    bridge.deliver_ok("customer.created")
    redis = bridge.rt.redis()
    queue = make_queue(redis)
    assert queue.count == 1 and redis.exists(drain_flag(SHOP))
    redis.lpop(queue.key)

    # when a new delivery arrives, the web's trigger trusts the flag (no Redis round trips beyond SET NX)
    assert bridge.rt.drains.ensure_drain(SHOP)
    assert queue.count == 0

    # then the sweeper sees a flag with nothing queued behind it, enqueues a drain, and the delivery is applied
    assert sweep(bridge.rt) == [SHOP]
    assert queue.count == 1
    bridge.drain()
    assert bridge.available(woo.CAROL) == 50 and bridge.inbox_count("pending") == 0


def test_the_sweeper_adds_nothing_while_a_drain_is_queued(bridge: Bridge) -> None:
    bridge.deliver_ok("customer.created")
    queue = make_queue(bridge.rt.redis())

    assert sweep(bridge.rt) == [SHOP]

    assert queue.count == 1

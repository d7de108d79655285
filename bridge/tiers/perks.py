"""Recurring tier perks (issue 16): e.g. a gold member's free-shipping coupon, once a month.

A perk is a redemption the bridge makes itself, for 0 points, keyed on ``(member, request_key)`` with the key
``perk:<level>:<perk>:<period>`` (``period``: ``2026-12`` for a monthly perk, ``2026`` for a yearly one, in the
program's time zone). The redemption table's unique ``(member_id, request_key)`` makes "once per period" a database
fact: two workers running the job at once, or a run repeated after a crash, insert nothing twice.

No points move: a perk writes no ledger entry at all (no spend of 0), so balances, the ledger's reports and the
tier metric never see it; giving a perk coupon back (cancel, expiry, a failure) returns nothing (``give_back`` finds
no spend). Everything after the row is the redemption machinery's: ``reserved`` -> the finishing job creates the
coupon in the shop (looking the code up first, retrying, failing for good after ``give_up_after_seconds``) ->
``issued`` -> used / expired (at the end of the period) / cancelled.

A perk whose coupon the shop refused for good (``failed``: bad keys, the shop down past ``give_up_after_seconds``) is
tried again under ``<key>#2``, then ``<key>#3``, each at least ``RETRY_AFTER`` after the last failure: a member is
not left without the period's perk by one bad afternoon, and there is never more than one live perk coupon per
period (any other state of the period's perk stops the job).

The periodic job ``tiers.perks`` is set-based: per level and perk, one keyset-paged query finds the members at that
level with no redemption under this period's key; each page is reserved in one short write transaction and its
coupons are handed to the finishing job (RQ) after the commit, so no shop call ever happens while the database
transaction is open. A member who reaches the level mid-period gets the period's perk at the next run; a member
who leaves the level gets no further perks and keeps the coupons already issued.

Which shop: the member's first shop (``member.first_shop_id``), else the shop of its first shop account; members
whose shop cannot make coupons (no REST API keys) and members without an e-mail (the coupon is locked to it) are
skipped until that changes.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, exists, func, select

from bridge.config import ProgramSettings, ShopSettings
from bridge.jobs.schedule import PeriodicJob, register
from bridge.redemption import catalogue, readiness
from bridge.redemption import service as redemptions
from bridge.redemption.codes import new_code
from bridge.redemption.model import Redemption, State
from bridge.runtime import Runtime
from bridge.storage import db
from bridge.storage import redemptions as redemption_store
from bridge.storage import tables as t
from bridge.storage.clock import add_months
from bridge.tiers.settings import Perk, TierLevel

log = logging.getLogger(__name__)

CHANNEL = "perk"  # redemption.channel of a perk coupon (widget | admin for the shopper's and the owner's)
REWARD_PREFIX = "perk:"  # redemption.reward_id: "perk:<perk id>" (':' is not allowed in a reward id: no clash)
BATCH = 500  # members reserved per write transaction
INTERVAL_SECONDS = 900.0  # a member who reached a level gets the period's perk within a quarter of an hour
KEY_LIMIT = 128 - 2  # redemption.request_key's length, less a retry's "#2"
MAX_TRIES = 3  # per member, level, perk and period: the first and two more after failures
RETRY_AFTER = timedelta(hours=6)  # after a failed perk (the owner has time to fix the shop's keys)
TITLES = {"free_shipping": "Free shipping"}


@dataclass(frozen=True)
class Period:
    key: str  # "2026-12" | "2026"
    start: datetime  # aware, in the program's zone
    end: datetime  # exclusive: the perk's coupon expires a second before


def period_of(perk: Perk, now: datetime, zone: tzinfo) -> Period:
    """The month or year ``now`` falls in, in the program's zone."""
    local = now.astimezone(zone)
    if perk.period == "year":
        start = datetime(local.year, 1, 1, tzinfo=zone)
        return Period(f"{local.year:04d}", start, datetime(local.year + 1, 1, 1, tzinfo=zone))
    start = datetime(local.year, local.month, 1, tzinfo=zone)
    return Period(f"{local.year:04d}-{local.month:02d}", start, add_months(start, 1))


def request_key(level_id: str, perk_id: str, period: str) -> str:
    """``perk:<level>:<perk>:<period>``; ids near their 63-character limit are hashed to fit the column."""
    key = f"perk:{level_id}:{perk_id}:{period}"
    if len(key) <= KEY_LIMIT:
        return key
    digest = hashlib.sha256(f"{level_id}:{perk_id}".encode()).hexdigest()[:40]
    return f"perk:{digest}:{period}"


HandOver = Callable[[Runtime, int], None]


def run_perks(rt: Runtime, now: datetime, *, hand_over: HandOver = redemptions.enqueue_finish) -> dict[str, int]:
    """Reserve this period's perk of every member at a level with perks who has not had it, and hand the
    coupons over (after each page's commit) to the finishing job. Returns ``{"reserved": n}``."""
    program = rt.settings.program
    tiers = program.tiers
    reserved = 0
    if tiers is None:
        return {"reserved": 0}
    shops = {shop.id: shop for shop in rt.settings.shops if readiness.why_not_redeemable(shop) is None}
    if not shops:
        return {"reserved": 0}
    for level in tiers.levels:
        for perk in level.perks:
            reserved += _run_level_perk(rt, program, level, perk, shops, now, hand_over)
    if reserved:
        log.info("tier perks: reserved %s coupon(s)", reserved)
    return {"reserved": reserved}


def _run_level_perk(
    rt: Runtime,
    program: ProgramSettings,
    level: TierLevel,
    perk: Perk,
    shops: dict[str, ShopSettings],
    now: datetime,
    hand_over: HandOver,
) -> int:
    period = period_of(perk, now, program.earning.zone)
    key = request_key(level.id, perk.id, period.key)
    after = 0
    reserved = 0
    while True:
        with db.write(rt.engine) as conn:
            due = due_members(conn, program.id, level.id, key, tuple(shops), after, BATCH, now)
            rows = [_row(program, level, perk, period, shops[row.shop_id], row, now) for row in due]
            ids = redemption_store.insert_many(conn, rows)  # a row another run inserted first is skipped
        for redemption_id in ids:  # after the commit: the job may run at once and must find the row
            hand_over(rt, redemption_id)
        reserved += len(ids)
        if len(due) < BATCH:
            return reserved
        after = due[-1].member_id


def tries_of(key: str) -> list[str]:
    """The request keys of a period's perk: the first try, then the retries after failures."""
    return [key, *(f"{key}#{n}" for n in range(2, MAX_TRIES + 1))]


@dataclass(frozen=True)
class Due:
    member_id: int
    email: str
    shop_id: str
    key: str  # the request key of this try


def due_members(
    conn: Connection,
    program_id: str,
    level_id: str,
    key: str,
    shop_ids: Sequence[str],
    after: int,
    limit: int,
    now: datetime,
) -> list[Due]:
    """Members at ``level_id`` (after ``after``, by id) whose shop is one of ``shop_ids``, who have an e-mail and
    no perk under ``key`` yet, or only failed ones (fewer than ``MAX_TRIES``, the last ``RETRY_AFTER`` ago).
    One query: the tier index, then per member the redemption's unique (member_id, request_key) index."""
    mt, m, r, mi = t.member_tier.c, t.member.c, t.redemption.c, t.member_identity.c
    keys = tries_of(key)
    of_period = (r.member_id == mt.member_id, r.request_key.in_(keys))
    tries = select(func.count()).where(*of_period).scalar_subquery()
    first_account_shop = (
        select(mi.shop_id).where(mi.member_id == mt.member_id).order_by(mi.id).limit(1).scalar_subquery()
    )
    shop = func.coalesce(m.first_shop_id, first_account_shop)
    stmt = (
        select(mt.member_id, m.email, shop.label("shop_id"), tries.label("tries"))
        .join(t.member, m.id == mt.member_id)
        .where(
            mt.program_id == program_id,
            mt.tier_id == level_id,
            mt.member_id > after,
            m.email != "",
            shop.in_(list(shop_ids)),
            ~exists().where(*of_period, r.state != str(State.FAILED)),  # a live (or used) perk: nothing to do
            ~exists().where(*of_period, r.closed_at > now - RETRY_AFTER),  # failed a moment ago: wait
            tries < MAX_TRIES,
        )
        .order_by(mt.member_id)
        .limit(limit)
    )
    return [
        Due(int(row.member_id), str(row.email), str(row.shop_id), keys[int(row.tries)]) for row in conn.execute(stmt)
    ]


def _row(
    program: ProgramSettings,
    level: TierLevel,
    perk: Perk,
    period: Period,
    shop: ShopSettings,
    due: Due,
    now: datetime,
) -> dict[str, Any]:
    """The perk's ``reserved`` redemption row. No ledger entry: 0 points."""
    title = f"{TITLES.get(perk.type, perk.type)} ({level.name} perk, {period.key})"
    # the period's last second: "valid until 30 Nov" for November's perk (the shop and the widget show the date)
    expires_at = (period.end - timedelta(seconds=1)).astimezone(now.tzinfo)
    settings = program.redemption
    body: dict[str, Any] = {
        "discount_type": "fixed_cart",
        "amount": "0",
        "free_shipping": perk.type == "free_shipping",
        "individual_use": False,  # a perk stacks with the member's other coupons
        "email": due.email,
        "expires_gmt": expires_at.strftime("%Y-%m-%dT%H:%M:%S"),
        "minimum_amount": catalogue.money(Decimal(0), shop.minor_unit),
        "product_ids": [],
        "excluded_product_ids": [],
        "product_categories": [],
        "excluded_product_categories": [],
        "description": f"{title} ({program.name})"[:500],
    }
    return {
        "program_id": program.id,
        "shop_id": shop.id,
        "member_id": due.member_id,
        "request_key": due.key,
        "reward_id": f"{REWARD_PREFIX}{perk.id}"[:64],
        "reward_type": perk.type,
        "title": title[:200],
        "points": 0,
        "value": None,
        "code": new_code(settings.code_prefix, settings.code_length),
        "state": State.RESERVED,
        "coupon_body": body,
        "channel": CHANNEL,
        "actor": "",
        "attempts": 0,
        "next_attempt_at": now,  # nobody holds it: the finishing job (or the recovery sweep) takes it
        "expires_at": expires_at,
        "created_at": now,
        "updated_at": now,
    }


def coupons(conn: Connection, member_id: int, limit: int = 24) -> list[Redemption]:
    """The member's perk coupons, newest first (what the widget's tier section and the admin API list)."""
    return redemption_store.for_member(conn, member_id, None, limit, channel=CHANNEL)


def view(red: Redemption, *, admin: bool = False) -> dict[str, Any]:
    """One perk coupon: its code only once it works in the shop (the owner always sees it)."""
    parts = red.request_key.split("#")[0].split(":")
    usable = red.state in (State.ISSUED, State.USED)
    item: dict[str, Any] = {
        "id": red.id,
        "perk": red.reward_id.removeprefix(REWARD_PREFIX),
        "type": red.reward_type,
        "tier": parts[1] if len(parts) == 4 else None,
        "period": parts[-1],
        "state": str(red.state),
        "code": red.code if usable or admin else None,
        "expires_at": red.expires_at.isoformat(),
    }
    if admin:
        item.update(shop_id=red.shop_id, failure_reason=red.failure_reason, created_at=red.created_at.isoformat())
    return item


def _interval(rt: Runtime) -> float:
    tiers = rt.settings.program.tiers
    return INTERVAL_SECONDS if tiers is not None and any(level.perks for level in tiers.levels) else 0


register(PeriodicJob("tiers.perks", _interval, run_perks))

"""What one app instance holds: settings, the database engine, the rules, Redis clients and the drain trigger.

Built by ``create_app`` and kept in ``app.extensions["bridge"]``; job functions reach it with
``current_runtime()`` because the worker runs them inside the app context.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from flask import current_app, has_app_context
from redis import Redis
from sqlalchemy import Engine

from bridge.config import Settings, ShopSettings
from bridge.connectors.woocommerce.api import WooClient
from bridge.connectors.woocommerce.catalog import ProductCategories
from bridge.errors import UnknownShop
from bridge.jobs.queue import DrainTrigger
from bridge.orders.service import ShopContext
from bridge.rules import RuleSet, build_rules
from bridge.storage import clock
from bridge.storage.db import make_engine

if TYPE_CHECKING:
    from bridge.sync.changes import ChangeListener

EXTENSION_KEY = "bridge"


def redis_url(settings: Settings) -> str:
    """The Redis URL to use; ``embedded`` means the unix socket of the server that ``bridge run`` starts."""
    if settings.uses_embedded_redis:
        return f"unix://{settings.embedded_redis_socket.resolve()}"
    return settings.redis_url


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    rules: RuleSet
    drains: DrainTrigger
    _redis: dict[str, Redis] = field(default_factory=dict)
    base_settings: Settings | None = None  # as loaded from the config, before connected shops are merged in
    program_version: int | None = None  # issue 14: the published version settings.program and rules come from
    _shops_check_due: float = float("-inf")
    _shops_check_started: float = float("-inf")
    _shops_version: tuple[Any, ...] | None = None
    _shops_lock: threading.Lock = field(default_factory=threading.Lock)
    _caches: dict[str, ProductCategories] = field(default_factory=dict)
    _listener: ChangeListener | None = None

    @classmethod
    def build(cls, settings: Settings, **engine_kwargs: Any) -> Runtime:
        install_clock(settings)
        engine = make_engine(settings.database_url, **engine_kwargs)
        runtime = cls(settings, engine, build_rules(settings.program), DrainTrigger(lambda: runtime.redis()))
        runtime.base_settings = settings
        runtime.reload_shops(force=True)
        return runtime

    SHOPS_CHECK_SECONDS = 2.0
    """Every process notices a `bridge connect` / `disconnect`, and a published program version (made by another
    process), within this time — at once while it hears the change signal (``follow_changes``)."""

    @property
    def program_id(self) -> str:
        return (self.base_settings or self.settings).program.id

    def follow_changes(self) -> None:
        """Start this process's change listener (long-running processes: gunicorn workers, ``bridge worker``):
        changes are then applied when announced, and requests poll the database only as a safety net."""
        from bridge.sync.changes import ChangeListener

        if self._listener is None or not self._listener.is_alive():
            self._listener = ChangeListener(self, redis_url(self.settings))
            self._listener.start()

    def changed(self, what: str) -> None:
        """After committing a change to the program or the shops: this process applies it now, and every other
        process is told (or finds it at its next database check when Redis is unreachable)."""
        from bridge.sync.changes import announce

        self.reload_shops(force=True)
        announce(self, what)

    def _check_period(self) -> float:
        from bridge.sync.changes import SUBSCRIBED_CHECK_SECONDS

        listener = self._listener
        heard = listener is not None and listener.subscribed.is_set()
        return SUBSCRIBED_CHECK_SECONDS if heard else self.SHOPS_CHECK_SECONDS

    def reload_shops(self, *, force: bool = False) -> bool:
        """Merge the shops connected with ``bridge connect`` (perhaps by another process) into ``settings``.

        Every ``SHOPS_CHECK_SECONDS`` (``current_runtime()`` and the scheduler call this), and at once when
        ``force``d (an unknown shop, a signature that does not verify with the secret we have): reads the stored
        connections (a handful of small rows) and merges them only when they changed since the last merge, so
        no process refuses a delivery that a reload would have accepted. Returns whether the shops changed.
        The same check reads the published program version (one indexed read) and, when it moved, rebuilds
        ``settings.program`` and ``rules`` from it (issue 14).
        Forced callers waiting while a check runs are answered by the next check that starts after they asked (a
        flood of unknown-shop requests costs one query per wave, not one each); periodic callers never wait.
        """
        asked = time.monotonic()
        if not force and asked < self._shops_check_due:
            return False
        from bridge.sync import shop_settings, shops

        if not self._shops_lock.acquire(blocking=force):
            return False  # another thread is checking right now: a periodic check need not wait for it
        try:
            if force and self._shops_check_started > asked:
                return False  # a check that began after this caller asked has just read the connections
            if not force and time.monotonic() < self._shops_check_due:
                return False  # another thread checked while this one waited
            self._shops_check_started = time.monotonic()
            self._shops_check_due = self._shops_check_started + self._check_period()
            base = self.base_settings or self.settings
            self._reload_program(base.program.id)
            rows = shops.connected_rows(self.engine, base.program.id)
            edited = shop_settings.rows(self.engine, base.program.id)
            if rows is None or edited is None:
                return False  # the database cannot say now: keep what this process has
            version = (shops.fingerprint(rows), shop_settings.fingerprint(edited))
            if version == self._shops_version:
                return False
            settings = shops.merged(base, rows)
            settings = shop_settings.applied(settings, edited) if settings is not None else None
            if settings is None:
                return False  # not recorded as merged: the next check tries again
            self.settings = dataclasses.replace(settings, program=self.settings.program)
            self._shops_version = version
            self._caches = {}  # per-shop caches hold clients made with the old URL and keys (a new dict: no race)
            return True
        finally:
            self._shops_lock.release()

    def _reload_program(self, program_id: str) -> None:
        """Follow the published program version (called with the check's lock held)."""
        from bridge.program import reload

        found = reload.newer_published(self.engine, program_id, self.program_version)
        if found is None:
            return
        version, program = found
        # Rules first, then the version, then settings: an order priced in between is priced by the new rules.
        self.rules = build_rules(program)
        self.program_version = version
        self.settings = dataclasses.replace(self.settings, program=program)

    def redis(self) -> Redis:
        """A client for the web side: short timeouts, so an unreachable Redis never slows a webhook down."""
        if "web" not in self._redis:
            self._redis["web"] = Redis.from_url(
                redis_url(self.settings), socket_connect_timeout=0.5, socket_timeout=1.0
            )
        return self._redis["web"]

    def worker_redis(self) -> Redis:
        """A client for workers, whose blocking reads must not time out."""
        if "worker" not in self._redis:
            self._redis["worker"] = Redis.from_url(redis_url(self.settings), socket_connect_timeout=2.0)
        return self._redis["worker"]

    def shop_context(self, shop_id: str) -> ShopContext:
        shop = self.shop(shop_id)
        return ShopContext(
            program_id=self.settings.program.id,
            shop_id=shop.id,
            minor_unit=shop.minor_unit,
            paid_statuses=frozenset(self.settings.program.earn.paid_statuses),
            rules=self.rules,
            earning=self.settings.program.earning,
            categories_of=self.product_categories(shop.id) if self.rules.needs_categories else None,
            program_version=self.program_version,
        )

    def product_categories(self, shop_id: str) -> ProductCategories:
        """The shop's product-category cache (issue 3), one per process: kept across deliveries."""
        key = f"categories:{shop_id}"
        caches = self._caches  # one dict throughout: a reload replaces it meanwhile, never empties it
        if key not in caches:
            caches[key] = ProductCategories(WooClient.for_shop(self.shop(shop_id)))
        return caches[key]

    def shop(self, shop_id: str) -> ShopSettings:
        """The shop's settings, reloaded first when the id is unknown (connected a moment ago?)."""
        shop = self.settings.shop(shop_id)
        if shop is None:
            self.reload_shops(force=True)
            shop = self.settings.shop(shop_id)
        if shop is None:
            raise UnknownShop(f"no shop {shop_id!r} in the configuration")
        return shop

    def close(self) -> None:
        if self._listener is not None:
            self._listener.stop()
        for client in self._redis.values():
            client.close()
        self._redis.clear()
        self.engine.dispose()


def install_clock(settings: Settings) -> None:
    """Every process built from these settings tells the same time (``clock.offset_seconds``), so a web worker, the
    worker and a CLI command agree on what is due, held or expired."""
    clock.install(clock.SystemClock(timedelta(seconds=settings.clock_offset_seconds)))


_ACTIVE: ContextVar[Runtime | None] = ContextVar("bridge_runtime", default=None)


@contextmanager
def use_runtime(rt: Runtime) -> Iterator[Runtime]:
    """Make ``rt`` the current runtime outside a Flask app context (scheduler threads, CLI commands), so code
    that runs everywhere (order observers, jobs) finds its settings the same way in the worker and in a CLI."""
    token = _ACTIVE.set(rt)
    try:
        yield rt
    finally:
        _ACTIVE.reset(token)


P = ParamSpec("P")
R = TypeVar("R")


def runs_with_runtime(func: Callable[Concatenate[Runtime, P], R]) -> Callable[Concatenate[Runtime, P], R]:
    """Decorator: the function (whose first argument is the runtime) runs with it as the current runtime, so
    order observers and jobs it calls find their settings from a CLI command or a scheduler thread too."""

    @functools.wraps(func)
    def wrapper(rt: Runtime, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with use_runtime(rt):
            return func(rt, *args, **kwargs)

    return wrapper


def active_runtime() -> Runtime | None:
    """The current runtime (app context first, then ``use_runtime``), or None."""
    if has_app_context():
        runtime: Runtime = current_app.extensions[EXTENSION_KEY]
        return runtime
    return _ACTIVE.get()


def current_runtime() -> Runtime:
    """The current runtime, its connected shops at most ``SHOPS_CHECK_SECONDS`` old: every request handler and
    job starts here, so each process (each gunicorn worker, the RQ worker) follows `bridge connect` by itself."""
    runtime = active_runtime()
    if runtime is None:
        raise RuntimeError("no bridge runtime: run inside the app context or `with use_runtime(rt)`")
    runtime.reload_shops()
    return runtime

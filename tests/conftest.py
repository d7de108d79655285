"""Real parts only: a real redis-server and real SQLite/PostgreSQL databases, started here.

- ``redis_server``: one redis-server per session (``bridge.embedded_redis``), flushed before each test.
- ``backend``: "sqlite" by default; modules that must also pass on PostgreSQL override it with
  ``BOTH_BACKENDS`` (see ``tests/integration``). PostgreSQL is a throwaway cluster started once per session.
- ``bridge``: an app over a fresh database, with a test client and helpers (``tests.support.client``).
"""

from __future__ import annotations

import shutil
import socket
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
import yaml
from playwright.sync_api import Browser
from redis import Redis
from sqlalchemy import text

from bridge import create_app, write_guard
from bridge.bootstrap import prepare_database
from bridge.config import Settings, load_settings
from bridge.embedded_redis import EmbeddedRedis
from bridge.runtime import Runtime
from bridge.storage import clock, migrate
from bridge.storage.db import make_engine
from bridge.storage.tables import metadata
from tests.support import clock as test_clock
from tests.support import woo
from tests.support.client import ADMIN_KEY, SHOP, WIDGET_SECRET, Bridge
from tests.support.postgres import PostgresCluster, find_bindir
from tests.support.woo_rest import FakeWooShop

CHROMIUM = "/usr/bin/chromium"
NO_DNS = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"  # a page reaches loopback only

pytest_plugins = ["tests.support.log_scan"]  # issue 19: the run fails on a secret or an e-mail in any log line

write_guard.strict = True  # a shop call inside a database write transaction fails the test (issue 12, section 3)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach beyond loopback (unix sockets are fine)."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            if host not in ("127.0.0.1", "::1", "localhost") and not str(host).startswith("127."):
                raise RuntimeError(f"test tried to reach {address}: only loopback is allowed")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def _pinned_clock_and_clean_cwd(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Every test starts on TEST_NOW's clock (also without a bridge: ``utcnow()`` in test code) and in an empty
    working directory, so neither today's date nor a ./config.yaml left by ``scripts/run`` can change a result."""
    previous = clock.install(clock.SystemClock(timedelta(seconds=test_clock.offset_seconds())))
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    yield
    clock.install(previous)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis") / "redis.sock").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    bindir = find_bindir()
    if bindir is None:
        pytest.fail("no PostgreSQL server binaries: scripts/test installs them (apt-get install postgresql)")
    cluster = PostgresCluster(bindir).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def pg_url(pg_cluster: PostgresCluster) -> str:
    url = pg_cluster.create_database("bridge_test")
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (much faster than migrating every time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "bridge.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        path = tmp_path / "bridge.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_url")
    _truncate_all(url)
    return url


def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        names = ", ".join(table.name for table in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


def base_config(tmp_path: Path, database_url: str, redis_url: str) -> dict[str, Any]:
    return {
        "data_dir": str(tmp_path / "data"),
        "database_url": database_url,
        "redis_url": redis_url,
        "log_level": "INFO",
        "clock": {"offset_seconds": test_clock.offset_seconds()},  # pinned to TEST_NOW: no test depends on today
        "admin": {"api_keys": [ADMIN_KEY]},
        "inbox": {"retry_base_seconds": 0, "sweep_interval_seconds": 0.2},
        # Tests run reconciliation and webhook health themselves; workers must not call the shop on their own.
        "sync": {"reconcile_interval_seconds": 0, "webhook_health_interval_seconds": 0},
        "program": {
            "id": "club",
            "name": "Test Club",
            # on_payment: the core-loop tests check balances right after payment; the hold has its own tests
            "earn": {"points_per_currency_unit": 1, "signup_points": 50, "release": "on_payment"},
        },
        "shops": [
            {
                "id": SHOP,
                "platform": "woocommerce",
                "url": "http://127.0.0.1:8080",
                "consumer_key": "ck_test",
                "consumer_secret": "cs_test",
                "webhook_secret": woo.SECRET,
                "widget_secret": WIDGET_SECRET,
                "currency": "USD",
            }
        ],
    }


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = value


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str, redis_server: EmbeddedRedis) -> Callable[..., Settings]:
    """Settings from a real config file in tmp_path; keyword arguments are deep-merged over the test config."""

    def build(redis_url: str | None = None, **overrides: Any) -> Settings:
        config = base_config(tmp_path, database_url, redis_url or redis_server.url)
        _deep_merge(config, overrides)
        path = tmp_path / "config.yaml"  # a real file, so subprocesses (bridge worker, run) read the same
        path.write_text(yaml.safe_dump(config))
        settings = load_settings(path, environ={})
        scan = sys.modules.get("tests.support.log_scan")  # a plugin (see pytest_plugins): imported by pytest
        if scan is not None:
            scan.remember(settings)
        return settings

    return build


@pytest.fixture
def config_file(make_settings: Callable[..., Settings], tmp_path: Path) -> Path:
    make_settings()
    return tmp_path / "config.yaml"


@pytest.fixture
def make_bridge(make_settings: Callable[..., Settings], redis_server: EmbeddedRedis) -> Iterator[Callable[..., Bridge]]:
    built: list[Runtime] = []

    def build(redis_url: str | None = None, **overrides: Any) -> Bridge:
        settings = make_settings(redis_url, **overrides)
        app = create_app(settings)
        app.config["TESTING"] = True
        rt: Runtime = app.extensions["bridge"]
        built.append(rt)
        prepare_database(rt, migrate_schema=False)
        return Bridge(app, app.test_client())

    with Redis.from_url(redis_server.url) as client:
        client.flushall()
    yield build
    for rt in built:
        rt.close()


@pytest.fixture
def bridge(make_bridge: Callable[..., Bridge]) -> Bridge:
    return make_bridge()


@pytest.fixture
def woo_shop() -> Iterator[FakeWooShop]:
    """The shop's REST API (tests/support/woo_rest.py), strict: every scripted fault must be used."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        shop = FakeWooShop(rsps).install()
        yield shop
        assert not shop.faults, f"scripted faults never triggered: {shop.faults}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """The session's one headless Debian Chromium (scripts/bootstrap --dev installs it): one Playwright per
    process, shared by the widget, console and API browser tests (a second would find the first one's loop)."""
    from playwright.sync_api import sync_playwright

    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: scripts/bootstrap --dev installs it (apt-get install chromium)")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[NO_DNS])
        yield launched
        launched.close()

"""A pytest plugin: every log line of the test run, checked for secrets and e-mail addresses (issue 19).

The whole session's log records go to one file (``<basetemp>/session.log``), written by the bridge's own text
formatter, with the ``bridge`` loggers at DEBUG (libraries stay at the configured level: RQ's and urllib3's
debug chatter would cost time and says nothing about our lines). The ``*.log`` files of processes the tests
started (``bridge run``, workers) under the same basetemp are read too. When the session ends, the run fails if
any line holds a secret the tests configured (every ``Settings`` built by ``make_settings``, and every
secret-named string constant of the test modules: webhook and widget secrets, API keys, shop credentials) or a
full e-mail address (``carol@example.com``, also URL-encoded; ``c***@example.com`` is what the bridge writes).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bridge import logs
from bridge.config import Settings

MIN_SECRET_LENGTH = 6
_SECRET_NAME = re.compile(r"(SECRET|PASSWORD|TOKEN|(^|_)KEY)$")
EMAIL = re.compile(r"[\w.+-]+(?:@|%40)(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}", re.IGNORECASE)
LOG_NAME = "session.log"
MAX_REPORTED = 20

_secrets: dict[str, str] = {}  # value -> where it came from (never printed: the value)


def remember(settings: Settings) -> None:
    """The secrets of settings a test built (``tests/conftest.py``'s ``make_settings``)."""
    found = {f"admin.api_keys[{i}]": key for i, key in enumerate(settings.admin_api_keys)}
    found["secret_key"] = settings.secret_key
    for shop in settings.shops:
        for name in ("webhook_secret", "widget_secret", "consumer_key", "consumer_secret"):
            found[f"shops[{shop.id}].{name}"] = getattr(shop, name)
    for where, value in found.items():
        if len(value) >= MIN_SECRET_LENGTH:
            _secrets.setdefault(value, where)


def module_secrets(modules: Iterable[object]) -> dict[str, str]:
    """Secret-named upper-case string constants (``ADMIN_KEY``, ``WIDGET_SECRET`` ...) of these modules."""
    found: dict[str, str] = {}
    for module in modules:
        for name, value in vars(module).items():
            if (
                isinstance(value, str)
                and len(value) >= MIN_SECRET_LENGTH
                and name.isupper()
                and _SECRET_NAME.search(name)
            ):
                found.setdefault(value, f"{getattr(module, '__name__', '?')}.{name}")
    return found


@dataclass(frozen=True)
class Leak:
    file: str
    line_number: int
    what: str  # the secret's origin, or "e-mail address": never the value itself


def leaks(path: Path, secrets: dict[str, str]) -> Iterator[Leak]:
    pattern = (
        re.compile("|".join(rf"(?<![\w-]){re.escape(s)}(?![\w-])" for s in sorted(secrets, key=len, reverse=True)))
        if secrets
        else None
    )
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, 1):
            if pattern is not None and (found := pattern.search(line)):
                yield Leak(path.name, number, secrets[found.group(0)])
            # .invalid (RFC 2606) is nobody's address: the demo owner `bridge run` prints for the newcomer
            if any(not m.group(0).lower().endswith(".invalid") for m in EMAIL.finditer(line)):
                yield Leak(path.name, number, "e-mail address")


class LogScan:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.handler: logging.FileHandler | None = None
        self.found: list[Leak] = []

    def _basetemp(self) -> Path:
        return self.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined,no-any-return]

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        logs.install_redaction()  # as every entry point of the bridge does before it logs
        self.handler = logging.FileHandler(self._basetemp() / LOG_NAME, encoding="utf-8")
        self.handler.setFormatter(logs.formatter("text"))
        self.handler.setLevel(logging.DEBUG)
        logging.getLogger().addHandler(self.handler)
        logging.getLogger("bridge").setLevel(logging.DEBUG)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.handler is None:
            return
        logging.getLogger().removeHandler(self.handler)
        self.handler.close()
        tests = [m for name, m in list(sys.modules.items()) if name.startswith("tests.") and m is not None]
        secrets = {**module_secrets(tests), **_secrets}
        base = self._basetemp()
        for path in [base / LOG_NAME, *sorted(p for p in base.rglob("*.log") if p.name != LOG_NAME)]:
            self.found.extend(leaks(path, secrets))
        if self.found and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.found:
            return
        terminalreporter.section("secrets or e-mail addresses in the logs (issue 19)", red=True)
        for leak in self.found[:MAX_REPORTED]:
            terminalreporter.write_line(f"{leak.file}:{leak.line_number}: {leak.what}")
        if len(self.found) > MAX_REPORTED:
            terminalreporter.write_line(f"... and {len(self.found) - MAX_REPORTED} more")
        terminalreporter.write_line(f"(the logs: {self._basetemp()})")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(LogScan(config), "bridge-log-scan")

"""Browser tests of the console: the real app over HTTP on loopback, Debian's headless Chromium driven by
Playwright (no browser download), as the widget's tests do. Screenshots go to ``test-artifacts/console/``.

Other console pages' browser tests use the fixtures of ``tests/console/conftest.py``: ``chromium`` (one browser
per session), ``console_site`` (the bridge served over HTTP) and its ``sign_in(page, role)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, expect

from bridge.console.routing import Role
from tests.console.conftest import PASSWORD, Console
from tests.widgets.servers import ServedApp

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
NO_DNS = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"  # nothing but loopback resolves


@dataclass
class ConsoleSite:
    console: Console
    served: ServedApp

    @property
    def url(self) -> str:
        return self.served.url + "/console/"

    def sign_in(self, page: Page, role: Role = Role.OWNER, email: str | None = None, lang: str = "en") -> str:
        """Add a user of ``role`` and sign in through the login form; returns the e-mail."""
        email = self.console.add_user(role, email)
        page.goto(f"{self.served.url}/console/login?lang={lang}")
        page.locator("input[name=email]").fill(email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form.stack button[type=submit]").click()
        expect(page.locator("header .usermenu summary")).to_contain_text(email)
        return email


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def watch_problems(page: Page) -> list[str]:
    """Collects the page's errors and warnings (a CSP refusal, a script error) as they happen: assert it is empty."""
    problems: list[str] = []
    page.on("console", lambda message: problems.append(f"{message.text} {message.location}") if _bad(message) else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def _bad(message: ConsoleMessage) -> bool:
    """An error or warning in the browser, but for the favicon the layout has none of."""
    return message.type in ("error", "warning") and not message.location.get("url", "").endswith("/favicon.ico")

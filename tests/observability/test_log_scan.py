"""The session's log scan (tests/support/log_scan.py) finds what it is there to find, and names no value."""

from __future__ import annotations

import types
from pathlib import Path

from tests.support import log_scan

SECRETS = {"whsec-0123456789": "shops[shop1].webhook_secret", "ck_test": "woo_rest.CONSUMER_KEY"}


def _scan(tmp_path: Path, text: str) -> list[log_scan.Leak]:
    path = tmp_path / "lines.txt"  # (not *.log: the session scan would read it too)
    path.write_text(text)
    return list(log_scan.leaks(path, SECRETS))


def test_a_secret_or_a_full_address_in_a_line_is_a_leak(tmp_path: Path) -> None:
    found = _scan(
        tmp_path,
        "INFO fine\n"
        "WARNING verify with whsec-0123456789 failed\n"
        "INFO GET customers?email=carol%40example.test\n"
        "INFO member Carol@Example.ORG joined\n"
        "DEBUG key=ck_test\n",
    )
    assert [(leak.line_number, leak.what) for leak in found] == [
        (2, "shops[shop1].webhook_secret"),
        (3, "e-mail address"),
        (4, "e-mail address"),
        (5, "woo_rest.CONSUMER_KEY"),
    ]
    assert all("whsec" not in leak.what and "@" not in leak.what for leak in found)


def test_masked_addresses_and_look_alike_words_are_not(tmp_path: Path) -> None:
    assert _scan(tmp_path, "member c***@example.test joined; c***%40example.test; test_check_test; ck_tests\n") == []


def test_secrets_are_read_from_settings_and_secret_named_constants() -> None:
    module = types.ModuleType("tests.fake")
    module.ADMIN_KEY = "admin-key-0123456789"  # type: ignore[attr-defined]
    module.WIDGET_SECRET = "widget-0123456789"  # type: ignore[attr-defined]
    module.MONKEY = "not a secret name"  # type: ignore[attr-defined]
    module.SHORT_KEY = "abc"  # type: ignore[attr-defined]
    assert log_scan.module_secrets([module]) == {
        "admin-key-0123456789": "tests.fake.ADMIN_KEY",
        "widget-0123456789": "tests.fake.WIDGET_SECRET",
    }

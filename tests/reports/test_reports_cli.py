"""``bridge reports show NAME``: the same figures as the API, as tables, JSON or a CSV file."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli import cli
from tests.reports import dataset
from tests.support.client import Bridge

RANGE = ["--from", "2026-08-01", "--to", "2026-10-31"]


@pytest.fixture
def config(make_bridge: Callable[..., Bridge], tmp_path: Path) -> str:
    bridge = make_bridge(program=dataset.PROGRAM)
    dataset.build(bridge)
    dataset.at("11-26", 12)
    return str(tmp_path / "config.yaml")


def run(config: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", config, "reports", *args], obj={})
    return result.exit_code, result.stdout, result.stderr


def test_show_prints_the_tables(config: str) -> None:
    code, out, _ = run(config, "show", "liability", *RANGE)
    assert code == 0, out
    assert out.startswith("liability: 2026-08-01 to 2026-10-31 by month")
    assert "2026-09-01" in out and "2100" in out and "6.24" in out


def test_show_json_and_csv(config: str, tmp_path: Path) -> None:
    code, out, _ = run(config, "show", "redemption", *RANGE, "--json")
    assert code == 0
    assert json.loads(out)["data"]["revenue"] == {"currency": "USD", "amount": "122.00", "orders": 3}
    target = tmp_path / "rewards.csv"
    code, _, err = run(config, "show", "redemption", *RANGE, "--csv", str(target))
    assert code == 0 and "wrote 4 rows of redemption/rewards" in err
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert ["ship", dataset.PERSIAN_SHIPPING, "1", "300"] in list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_list_and_mistakes(config: str) -> None:
    code, out, _ = run(config, "list")
    assert code == 0 and "referrals" in out and "liability" in out
    code, _, err = run(config, "show", "nothing")
    assert code == 1 and "no report 'nothing'" in err
    code, _, err = run(config, "show", "program", "--from", "2026-10-31", "--to", "2026-08-01")
    assert code == 1 and "before from" in err
    code, _, err = run(config, "show", "program", "--table", "nope")
    assert code == 1 and "no table 'nope'" in err

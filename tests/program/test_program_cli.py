"""``bridge program export`` / ``import``, and the seed from ``config.yaml`` on ``bridge db upgrade``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from click.testing import CliRunner, Result

from bridge.cli import cli
from bridge.config import load_settings
from bridge.program import document
from tests.program.conftest import published
from tests.support.client import Bridge

EXAMPLE = Path(__file__).parent.parent.parent / "config.example.yaml"


def bridge_cli(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(tmp_path / "config.yaml"), *args], obj={})


def test_export_edit_import_round_trip(bridge: Bridge, tmp_path: Path) -> None:
    exported = bridge_cli(tmp_path, "program", "export")
    assert exported.exit_code == 0, exported.output
    assert exported.output.startswith("# program version 1 by config")
    data = yaml.safe_load(exported.output)
    assert data["program"] == published(bridge)["program"]

    data["program"]["earn"]["points_per_currency_unit"] = "2"
    data["program"]["name"] = "Double Club"
    edited = tmp_path / "program.yaml"
    edited.write_text(yaml.safe_dump(data))

    shown = bridge_cli(tmp_path, "program", "import", str(edited))
    assert shown.exit_code == 0, shown.output
    assert "-  name: Test Club" in shown.output and "+  name: Double Club" in shown.output
    assert "not published" in shown.output and published(bridge)["version"] == 1  # nothing applied without --yes

    applied = bridge_cli(tmp_path, "program", "import", str(edited), "--yes", "--reason", "double points")
    assert applied.exit_code == 0, applied.output
    assert "published version 2" in applied.output
    body = published(bridge)
    assert (body["version"], body["actor"], body["reason"]) == (2, "cli", "double points")
    assert body["program"] == data["program"]

    again = bridge_cli(tmp_path, "program", "export")
    assert yaml.safe_load(again.output) == data  # exported as imported
    old = bridge_cli(tmp_path, "program", "export", "--version", "1")
    assert yaml.safe_load(old.output)["program"]["name"] == "Test Club"
    assert "no changes" in bridge_cli(tmp_path, "program", "import", str(edited)).output
    assert bridge_cli(tmp_path, "program", "export", "--version", "9").exit_code == 1


def test_import_refuses_an_invalid_file_and_names_the_key(bridge: Bridge, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("program:\n  earn:\n    signup_point: 100\n")
    result = bridge_cli(tmp_path, "program", "import", str(bad), "--yes")
    assert result.exit_code == 2
    assert "program.earn.signup_point" in result.output and "signup_points" in result.output
    assert published(bridge)["version"] == 1


def test_db_upgrade_seeds_once_and_never_overwrites_what_was_published_since(
    make_bridge: Callable[..., Bridge], tmp_path: Path
) -> None:
    bridge = make_bridge()
    assert bridge_cli(tmp_path, "db", "upgrade").exit_code == 0
    assert published(bridge)["version"] == 1  # the same config: the database's version stands

    draft = bridge.admin("POST", "/admin/v1/program/drafts", json={**published(bridge)["program"], "name": "Edited"})
    assert bridge.admin("POST", f"/admin/v1/program/drafts/{draft.get_json()['id']}/publish").status_code == 200
    restarted = make_bridge()  # a restart with config.yaml unchanged keeps what the owner published
    assert restarted.rt.settings.program.name == "Edited" and restarted.rt.program_version == 2

    edited = make_bridge(program={"name": "From YAML"})  # config.yaml edited after an API publish: reported only
    assert published(edited)["version"] == 2 and edited.rt.settings.program.name == "Edited"

    imported = bridge_cli(tmp_path, "program", "import", str(tmp_path / "config.yaml"), "--yes")
    assert imported.exit_code == 0, imported.output  # a whole config.yaml is read for its program:
    assert published(edited)["program"]["name"] == "From YAML"


def test_a_yaml_only_owner_sees_a_config_edit_published_at_the_next_start(
    make_bridge: Callable[..., Bridge], tmp_path: Path
) -> None:
    make_bridge()
    edited = make_bridge(program={"name": "From YAML"})  # nobody published since the seed: the edit is published
    body = published(edited)
    assert (body["version"], body["actor"], body["program"]["name"]) == (2, "config", "From YAML")
    assert edited.rt.settings.program.name == "From YAML"


def test_every_key_of_the_example_program_survives_a_round_trip() -> None:
    program = load_settings(EXAMPLE, environ={}).program
    doc = document.dump(program)
    assert document.parse(doc) == program
    assert document.dump(document.parse(yaml.safe_load(document.to_yaml(doc))["program"])) == doc


def test_rules_with_dates_survive_a_round_trip() -> None:
    raw = yaml.safe_load(
        """
        earn:
          rules:
            - {id: base, type: per_amount, points: 1, per: 1, name: Shop with us}
            - {id: black-friday, type: campaign, points: 50, starts: 2026-11-27, ends: 2026-11-30}
            - {id: daily, type: cap, period: day, max_points: 120}
        rewards:
          - {id: ten, title: Ten off, type: fixed_cart, points: 1000, value: 10, limit: {count: 1, period_days: 30}}
        referrals: {enabled: true, shops: {shop1: {landing_path: /welcome}}}
        """
    )
    doc = document.normalised(raw)
    assert doc["earn"]["rules"][1]["starts"] == "2026-11-27T00:00:00"  # midnight in the program's zone
    assert document.normalised(doc) == doc

"""The deployment examples (Dockerfile, compose.yaml, deploy/) run nowhere here (no Docker, no systemd in CI), so
what an operator would copy is checked against the code: every command they start is a real ``bridge`` command
with options it takes, every ``BRIDGE_*`` variable names a setting the configuration knows, and the example
config with those variables loads."""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import pytest
import yaml

from bridge.cli import cli
from bridge.config import load_settings
from bridge.config_schema import reference_markdown
from bridge.web.widget_assets import WIDGETS_DIR

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DEPLOY_CONFIG = ROOT / "deploy" / "config.yaml"
SYSTEMD = ROOT / "deploy" / "systemd"
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")
FAKE_SECRET = "x" * 40  # long enough for every secret's minimum length


def assert_bridge_command(argv: list[str]) -> None:
    """``argv`` is ``bridge`` (or a path to it), a real subcommand (through groups) and options it accepts."""
    assert Path(argv[0]).name == "bridge", f"{argv}: not the bridge command"
    command: click.Command = cli
    args, path = list(argv[1:]), ["bridge"]
    while isinstance(command, click.Group):
        assert args, f"{' '.join(argv)}: {' '.join(path)} needs a subcommand"
        sub = command.get_command(click.Context(command), args[0])
        assert sub is not None, f"{' '.join(argv)}: there is no `{' '.join([*path, args[0]])}`"
        path.append(args.pop(0))
        command = sub
    try:
        command.make_context(" ".join(path), args)  # parses only: an unknown option or a bad value raises
    except click.UsageError as exc:
        raise AssertionError(f"{' '.join(argv)}: {exc.format_message()}") from exc


def known_keys() -> set[str]:
    """Every key of the configuration reference (``shops[].webhook_secret``), as the README lists them."""
    return set(re.findall(r"^\| `([^`]+)`", reference_markdown(), flags=re.MULTILINE))


def assert_known_variable(name: str) -> None:
    """``BRIDGE_SHOPS__0__WEBHOOK_SECRET`` -> ``shops[].webhook_secret`` must be a configuration key."""
    if name == "BRIDGE_CONFIG":
        return
    assert name.startswith("BRIDGE_"), name
    parts = name.removeprefix("BRIDGE_").lower().split("__")
    key = ""
    for part in parts:
        key += "[]" if part.isdigit() else (f".{part}" if key else part)
    assert key in known_keys(), f"{name}: the configuration has no key {key!r}"


def interpolated(value: str) -> str:
    """compose's ``${VAR:?message}`` / ``${VAR:-default}`` filled with a value that passes every check."""
    return INTERPOLATION.sub(FAKE_SECRET, value)


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def bridge_services() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose()["services"].items() if s.get("image", "").startswith("loyalty-bridge")}


def test_compose_runs_postgresql_redis_two_web_and_three_workers() -> None:
    services = compose()["services"]
    assert {"postgres", "redis"} <= set(services)
    bridge = bridge_services()
    commands = {name: s["command"][:2] for name, s in bridge.items()}
    web = [name for name, command in commands.items() if command == ["bridge", "serve"]]
    workers = sum(
        s.get("deploy", {}).get("replicas", 1) for s in bridge.values() if s["command"][:2] == ["bridge", "worker"]
    )
    assert len(web) == 2 and workers == 3, commands
    assert any(command == ["bridge", "db"] for command in commands.values())  # `bridge db upgrade` before them


@pytest.mark.parametrize("service", sorted(bridge_services()))
def test_every_compose_command_is_a_bridge_command(service: str) -> None:
    assert_bridge_command(bridge_services()[service]["command"])


def test_every_compose_variable_is_a_setting_and_the_example_config_loads_with_them() -> None:
    services = bridge_services()
    environment = {k: str(v) for k, v in next(iter(services.values()))["environment"].items()}
    for name in environment:
        if name.startswith("BRIDGE_"):
            assert_known_variable(name)
    env = {k: interpolated(v) for k, v in environment.items()}
    settings = load_settings(path=DEPLOY_CONFIG, environ=env)
    # The connections name compose's own services.
    assert urlsplit(settings.database_url).hostname == "postgres" and "postgres" in compose()["services"]
    assert urlsplit(settings.redis_url).hostname == "redis" and "redis" in compose()["services"]
    assert settings.secret_key == FAKE_SECRET and settings.admin_api_keys == (FAKE_SECRET,)
    assert settings.shops[0].webhook_secret == FAKE_SECRET
    # The config file the services mount is the one BRIDGE_CONFIG names.
    mounts = [m.split(":")[1] for m in next(iter(services.values()))["volumes"]]
    assert environment["BRIDGE_CONFIG"] in mounts


def test_the_image_runs_a_bridge_command_as_a_user_other_than_root() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), users
    cmd = json.loads(next(line for line in reversed(lines) if line.startswith("CMD ")).removeprefix("CMD "))
    assert_bridge_command(cmd)
    for name in re.findall(r"\b(BRIDGE_\w+)=", DOCKERFILE.read_text()):
        assert_known_variable(name)
    # The widget's script is served from the source tree's widgets/ beside bridge/ (widget_assets.WIDGETS_DIR):
    # the image keeps that tree and installs it editable, as scripts/bootstrap does.
    assert WIDGETS_DIR.relative_to(ROOT) == Path("widgets")
    assert "COPY widgets ./widgets" in lines and "COPY bridge ./bridge" in lines
    assert any(line.endswith("pip install --no-cache-dir --disable-pip-version-check -e .") for line in lines)


def _units() -> list[Path]:
    return sorted(SYSTEMD.glob("*.service"))


@pytest.mark.parametrize("unit", _units(), ids=lambda p: p.name)
def test_every_systemd_unit_starts_a_bridge_command_with_known_settings(unit: Path) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read(unit)
    service = parser["Service"]
    assert service["User"] not in ("root", "0")
    assert_bridge_command(service["ExecStart"].split())
    for assignment in service.get("Environment", "").split():
        name = assignment.split("=", 1)[0]
        if name.startswith("BRIDGE_"):
            assert_known_variable(name)


def test_the_systemd_environment_file_holds_settings_that_load() -> None:
    env: dict[str, str] = {}
    for line in (SYSTEMD / "env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, value = line.split("=", 1)
            assert_known_variable(name)
            env[name] = value
    settings = load_settings(path=DEPLOY_CONFIG, environ=env)
    assert settings.database_url.startswith("postgresql://") and settings.redis_url.startswith("redis://")


def test_the_checks_fail_on_a_command_option_or_variable_that_does_not_exist() -> None:
    with pytest.raises(AssertionError, match="no `bridge scheduler`"):
        assert_bridge_command(["bridge", "scheduler"])
    with pytest.raises(AssertionError, match="--processes"):
        assert_bridge_command(["bridge", "serve", "--processes", "2"])
    with pytest.raises(AssertionError, match="needs a subcommand"):
        assert_bridge_command(["bridge", "db"])
    with pytest.raises(AssertionError, match=re.escape("no key 'shops[].webhook_secrt'")):
        assert_known_variable("BRIDGE_SHOPS__0__WEBHOOK_SECRT")

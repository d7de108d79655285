"""`--config FILE` is accepted before or after the subcommand, as the README writes it (`bridge run --config ...`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml


def _bridge(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    return subprocess.run([sys.executable, "-m", "bridge", *args], capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize(
    "where",
    [
        lambda c: ["--config", c, "check-config"],
        lambda c: ["check-config", "--config", c],
        lambda c: ["check-config", f"--config={c}"],
    ],
    ids=["before", "after", "after-with-equals"],
)
def test_config_option_before_or_after_the_subcommand(tmp_path: Path, where: object) -> None:
    config = tmp_path / "mine.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "program": {"name": "Option Club"}}))
    result = _bridge(*where(str(config)))  # type: ignore[operator]
    assert result.returncode == 0, result.stderr
    assert f"config OK: {config}" in result.stdout and "Option Club" in result.stdout


def test_config_option_after_a_nested_subcommand(tmp_path: Path) -> None:
    config = tmp_path / "mine.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data")}))
    result = _bridge("db", "upgrade", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "bridge.db").exists()

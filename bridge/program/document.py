"""A program document: the ``program:`` mapping of ``config.yaml``, as stored, exported and edited.

Documents are validated by the configuration's own checker (``bridge.config.settings_from``), so a draft is
held to exactly the rules ``config.yaml`` is. What is stored is the *normalised* document (every key, defaults
filled in, JSON types): it parses back to the same settings, and two versions compare key by key.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import yaml

from bridge.config import ProgramSettings, settings_from
from bridge.config_schema import ProgramSchema
from bridge.errors import ConfigError
from bridge.texts import LocalText


def parse(document: Mapping[str, Any]) -> ProgramSettings:
    """The settings of ``document``; raises ``ConfigError`` naming the key path (``program.earn.rounding``)."""
    if not isinstance(document, Mapping):
        raise ConfigError("<program>", "program", "must be a mapping")
    return settings_from({"program": plain(dict(document))}).program


def dump(program: ProgramSettings) -> dict[str, Any]:
    """The normalised document of ``program`` in ``config.yaml``'s shape, written by the configuration's own
    schema (so only the keys a reward or rule type uses appear): ``parse(dump(p))`` gives ``p`` back."""
    data: dict[str, Any] = plain(ProgramSchema().dump(program))
    return data


def normalised(document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` validated and normalised; raises ``ConfigError``."""
    return dump(parse(document))


def plain(value: Any) -> Any:
    """``value`` with JSON types only (decimals as strings, dates as ISO text, tuples as lists)."""
    if isinstance(value, LocalText):
        return value.document()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain_fields(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _plain_fields(obj: Any) -> dict[str, Any]:
    return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


def to_yaml(document: Mapping[str, Any]) -> str:
    return yaml.safe_dump({"program": dict(document)}, sort_keys=False, allow_unicode=True)


def from_yaml(text: str) -> dict[str, Any]:
    """The program document of a YAML file: its ``program:`` (as export writes, or a whole ``config.yaml``) or the
    bare mapping."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError("<file>", "-", f"not valid YAML: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("program"), dict):
        data = data["program"]
    if not isinstance(data, dict):
        raise ConfigError("<file>", "program", "must be a mapping")
    return data


def diff(old: Mapping[str, Any] | None, new: Mapping[str, Any], old_name: str, new_name: str) -> str:
    """A unified diff of two documents' YAML: what an import or a publish would change."""
    before = to_yaml(old).splitlines(keepends=True) if old is not None else []
    after = to_yaml(new).splitlines(keepends=True)
    return "".join(difflib.unified_diff(before, after, old_name, new_name))

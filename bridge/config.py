"""Settings: built-in defaults < config.yaml < BRIDGE_* environment variables; validated, then frozen.

Environment overrides use ``__`` to step into nested keys and list indexes, and YAML syntax for values:
``BRIDGE_REDIS_URL=redis://10.0.0.5:6379/0``, ``BRIDGE_PROGRAM__EARN__SIGNUP_POINTS=100``,
``BRIDGE_SHOPS__0__WEBHOOK_SECRET=...``, ``BRIDGE_ADMIN__API_KEYS='[key-one, key-two]'``.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from bridge.errors import ConfigError

ENV_PREFIX = "BRIDGE_"
DEFAULT_CONFIG_PATH = "config.yaml"
PLATFORMS = ("woocommerce",)
ORDER_STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
    "trash",
)
ROUNDING_MODES = ("down", "nearest", "up")
SHOP_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

DEFAULTS: dict[str, Any] = {
    "data_dir": "./data",
    "database_url": None,  # None: SQLite in data_dir
    "redis_url": "embedded",
    "log_level": "INFO",
    "admin": {"api_keys": []},
    "webhooks": {"max_body_bytes": 1024 * 1024},
    "inbox": {
        "batch_size": 100,
        "max_attempts": 8,
        "retry_base_seconds": 5,
        "retry_max_seconds": 3600,
        "sweep_interval_seconds": 5,
    },
    "program": {
        "id": "default",
        "name": "Loyalty club",
        "earn": {
            "points_per_currency_unit": "1",
            "signup_points": 0,
            "paid_statuses": ["processing", "completed"],
            "rounding": "down",
        },
    },
    "shops": [],
}


@dataclass(frozen=True)
class ShopSettings:
    id: str
    platform: str
    url: str
    consumer_key: str
    consumer_secret: str
    webhook_secret: str
    currency: str
    minor_unit: int
    widget_secret: str = ""  # signs shoppers' widget tokens (HS256); empty: the widget API is off for this shop
    allowed_origins: tuple[str, ...] = ()  # CORS origins of the widget; defaults to the shop URL's origin

    def __repr__(self) -> str:  # secrets must never reach logs, even through repr()
        return f"ShopSettings(id={self.id!r}, platform={self.platform!r}, url={self.url!r})"


@dataclass(frozen=True)
class EarnSettings:
    points_per_currency_unit: Decimal
    signup_points: int
    paid_statuses: tuple[str, ...]
    rounding: str


@dataclass(frozen=True)
class ProgramSettings:
    id: str
    name: str
    earn: EarnSettings


@dataclass(frozen=True)
class InboxSettings:
    batch_size: int
    max_attempts: int
    retry_base_seconds: int
    retry_max_seconds: int
    sweep_interval_seconds: float


@dataclass(frozen=True)
class Settings:
    source: str
    data_dir: Path
    database_url: str
    redis_url: str
    log_level: str
    admin_api_keys: tuple[str, ...] = field(repr=False)
    max_body_bytes: int
    inbox: InboxSettings
    program: ProgramSettings
    shops: tuple[ShopSettings, ...]

    def shop(self, shop_id: str) -> ShopSettings | None:
        for shop in self.shops:
            if shop.id == shop_id:
                return shop
        return None

    @property
    def uses_embedded_redis(self) -> bool:
        return self.redis_url == "embedded"

    @property
    def embedded_redis_socket(self) -> Path:
        return self.data_dir / "redis.sock"


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Load, merge and validate settings.

    Args:
        path: the YAML file; defaults to ``$BRIDGE_CONFIG`` or ``./config.yaml`` (optional when defaulted).
        environ: where ``BRIDGE_*`` overrides come from; defaults to ``os.environ``.
        overrides: a mapping merged last (tests and embedding).

    Raises:
        ConfigError: naming the file, the key and the reason.
    """
    env = os.environ if environ is None else environ
    explicit = path is not None or "BRIDGE_CONFIG" in env
    config_path = Path(path if path is not None else env.get("BRIDGE_CONFIG", DEFAULT_CONFIG_PATH))
    raw = copy.deepcopy(DEFAULTS)
    source = "<defaults>"
    if config_path.exists():
        source = str(config_path)
        _deep_merge(raw, _read_yaml(config_path))
    elif explicit:
        raise ConfigError(str(config_path), "-", "file not found")
    _apply_env(raw, env, source)
    if overrides:
        _deep_merge(raw, copy.deepcopy(dict(overrides)))
    return _validate(raw, source)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), "-", f"not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(str(path), "-", "the top level must be a mapping")
    return data


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = value


def _apply_env(raw: dict[str, Any], env: Mapping[str, str], source: str) -> None:
    for name, text in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or name == "BRIDGE_CONFIG":
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        try:
            value = yaml.safe_load(text) if text else ""
        except yaml.YAMLError:
            value = text
        _set_path(raw, parts, value, name)


def _set_path(node: Any, parts: list[str], value: Any, env_name: str) -> None:
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit():
                raise ConfigError(env_name, ".".join(parts), "expected a list index")
            index = int(part)
            while len(node) <= index:
                node.append({})
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise ConfigError(env_name, ".".join(parts), "cannot set a key inside a scalar")


class _Checker:
    """Reads typed values out of the merged mapping, naming the offending key on failure."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, reason: str) -> ConfigError:
        return ConfigError(self.source, key, reason)

    def mapping(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, "must be a mapping")
        return value

    def string(self, value: Any, key: str, *, allow_empty: bool = False) -> str:
        if isinstance(value, bool) or value is None or isinstance(value, list | dict):
            raise self.fail(key, "must be a string")
        text = str(value).strip()
        if not text and not allow_empty:
            raise self.fail(key, "must not be empty")
        return text

    def integer(self, value: Any, key: str, *, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise self.fail(key, "must be an integer")
        try:
            number = int(value)
        except ValueError as exc:
            raise self.fail(key, "must be an integer") from exc
        if minimum is not None and number < minimum:
            raise self.fail(key, f"must be at least {minimum}")
        return number

    def decimal(self, value: Any, key: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(key, "must be a number")
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise self.fail(key, "must be a number") from exc
        if not number.is_finite() or number < 0:
            raise self.fail(key, "must be a finite number, zero or more")
        return number

    def choice(self, value: Any, key: str, choices: tuple[str, ...]) -> str:
        text = self.string(value, key)
        if text not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}")
        return text


def _validate(raw: dict[str, Any], source: str) -> Settings:
    c = _Checker(source)
    known = set(DEFAULTS)
    for key in raw:
        if key not in known:
            raise c.fail(key, f"unknown key (known: {', '.join(sorted(known))})")
    data_dir = Path(c.string(raw["data_dir"], "data_dir"))
    database_url = raw["database_url"]
    if database_url is None:
        database_url = f"sqlite:///{(data_dir / 'bridge.db').resolve()}"
    database_url = c.string(database_url, "database_url")
    if not database_url.startswith(("sqlite://", "postgresql")):
        raise c.fail("database_url", "must be a sqlite:// or postgresql:// URL")
    redis_url = c.string(raw["redis_url"], "redis_url")
    if redis_url != "embedded" and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise c.fail("redis_url", "must be 'embedded' or a redis://, rediss:// or unix:// URL")
    admin = c.mapping(raw["admin"], "admin")
    keys = admin.get("api_keys") or []
    if not isinstance(keys, list):
        raise c.fail("admin.api_keys", "must be a list of strings")
    api_keys = tuple(c.string(k, f"admin.api_keys[{i}]") for i, k in enumerate(keys))
    for i, k in enumerate(api_keys):
        if len(k) < 16:
            raise c.fail(f"admin.api_keys[{i}]", "must be at least 16 characters long")
    webhooks = c.mapping(raw["webhooks"], "webhooks")
    return Settings(
        source=source,
        data_dir=data_dir,
        database_url=database_url,
        redis_url=redis_url,
        log_level=c.choice(str(raw["log_level"]).upper(), "log_level", ("DEBUG", "INFO", "WARNING", "ERROR")),
        admin_api_keys=api_keys,
        max_body_bytes=c.integer(webhooks.get("max_body_bytes"), "webhooks.max_body_bytes", minimum=1024),
        inbox=_inbox(c, c.mapping(raw["inbox"], "inbox")),
        program=_program(c, c.mapping(raw["program"], "program")),
        shops=_shops(c, raw["shops"]),
    )


def _inbox(c: _Checker, raw: dict[str, Any]) -> InboxSettings:
    return InboxSettings(
        batch_size=c.integer(raw.get("batch_size"), "inbox.batch_size", minimum=1),
        max_attempts=c.integer(raw.get("max_attempts"), "inbox.max_attempts", minimum=1),
        retry_base_seconds=c.integer(raw.get("retry_base_seconds"), "inbox.retry_base_seconds", minimum=0),
        retry_max_seconds=c.integer(raw.get("retry_max_seconds"), "inbox.retry_max_seconds", minimum=0),
        sweep_interval_seconds=float(c.decimal(raw.get("sweep_interval_seconds"), "inbox.sweep_interval_seconds")),
    )


def _program(c: _Checker, raw: dict[str, Any]) -> ProgramSettings:
    earn = c.mapping(raw.get("earn"), "program.earn")
    statuses = earn.get("paid_statuses")
    if not isinstance(statuses, list) or not statuses:
        raise c.fail("program.earn.paid_statuses", "must be a non-empty list of order statuses")
    paid = tuple(c.choice(s, "program.earn.paid_statuses", ORDER_STATUSES) for s in statuses)
    program_id = c.string(raw.get("id"), "program.id")
    if not SHOP_ID_PATTERN.match(program_id):
        raise c.fail("program.id", "must be lower-case letters, digits, '-' or '_'")
    return ProgramSettings(
        id=program_id,
        name=c.string(raw.get("name"), "program.name"),
        earn=EarnSettings(
            points_per_currency_unit=c.decimal(
                earn.get("points_per_currency_unit"), "program.earn.points_per_currency_unit"
            ),
            signup_points=c.integer(earn.get("signup_points"), "program.earn.signup_points", minimum=0),
            paid_statuses=paid,
            rounding=c.choice(earn.get("rounding"), "program.earn.rounding", ROUNDING_MODES),
        ),
    )


def _shops(c: _Checker, raw: Any) -> tuple[ShopSettings, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise c.fail("shops", "must be a list")
    shops: list[ShopSettings] = []
    for i, item in enumerate(raw):
        key = f"shops[{i}]"
        entry = c.mapping(item, key)
        shop_id = c.string(entry.get("id"), f"{key}.id")
        if not SHOP_ID_PATTERN.match(shop_id):
            raise c.fail(f"{key}.id", "must be lower-case letters, digits, '-' or '_' (it appears in URLs)")
        if any(s.id == shop_id for s in shops):
            raise c.fail(f"{key}.id", f"duplicate shop id {shop_id!r}")
        url = c.string(entry.get("url"), f"{key}.url")
        if not url.startswith(("http://", "https://")):
            raise c.fail(f"{key}.url", "must start with http:// or https://")
        currency = c.string(entry.get("currency"), f"{key}.currency").upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise c.fail(f"{key}.currency", "must be an ISO 4217 code such as USD")
        secret = c.string(entry.get("webhook_secret"), f"{key}.webhook_secret", allow_empty=True)
        if not secret:
            raise c.fail(f"{key}.webhook_secret", "is required: deliveries cannot be verified without it")
        minor = entry.get("minor_unit")
        widget_secret = c.string(entry.get("widget_secret", ""), f"{key}.widget_secret", allow_empty=True)
        if widget_secret and len(widget_secret) < 32:
            raise c.fail(f"{key}.widget_secret", "must be at least 32 characters long (it signs shopper tokens)")
        shops.append(
            ShopSettings(
                id=shop_id,
                platform=c.choice(entry.get("platform", "woocommerce"), f"{key}.platform", PLATFORMS),
                url=url.rstrip("/"),
                consumer_key=c.string(entry.get("consumer_key", ""), f"{key}.consumer_key", allow_empty=True),
                consumer_secret=c.string(entry.get("consumer_secret", ""), f"{key}.consumer_secret", allow_empty=True),
                webhook_secret=secret,
                currency=currency,
                minor_unit=(
                    currency_minor_unit(currency) if minor is None else c.integer(minor, f"{key}.minor_unit", minimum=0)
                ),
                widget_secret=widget_secret,
                allowed_origins=_origins(c, entry.get("allowed_origins"), f"{key}.allowed_origins", url),
            )
        )
    return tuple(shops)


# ISO 4217 exponents that differ from 2, plus IRR which WooCommerce stores without decimals.
_MINOR_UNITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "IRR", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF"), 0),
    **dict.fromkeys(("UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def currency_minor_unit(currency: str) -> int:
    """Number of decimals of ``currency`` (2 unless listed)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def _origins(c: _Checker, raw: Any, key: str, shop_url: str) -> tuple[str, ...]:
    """CORS origins (scheme://host[:port]); by default the shop's own origin."""
    if raw is None:
        parts = urlsplit(shop_url)
        return (f"{parts.scheme}://{parts.netloc}",)
    if not isinstance(raw, list):
        raise c.fail(key, "must be a list of origins such as https://shop.example")
    origins = []
    for i, item in enumerate(raw):
        origin = c.string(item, f"{key}[{i}]").rstrip("/")
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            raise c.fail(f"{key}[{i}]", "must be an origin: scheme://host[:port], no path")
        origins.append(origin)
    return tuple(origins)

"""Settings: built-in defaults < config.yaml < BRIDGE_* environment variables; validated, then frozen.

Environment overrides use ``__`` to step into nested keys and list indexes, and YAML syntax for values:
``BRIDGE_REDIS_URL=redis://10.0.0.5:6379/0``, ``BRIDGE_PROGRAM__EARN__SIGNUP_POINTS=100``,
``BRIDGE_SHOPS__0__WEBHOOK_SECRET=...``, ``BRIDGE_ADMIN__API_KEYS='[key-one, key-two]'``.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable, Mapping
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
    "trusted_proxies": 0,  # reverse proxies in front of the web server whose X-Forwarded-For/-Proto are believed
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
        "rewards": [],
        "redemption": {
            "code_prefix": "",
            "code_length": 12,
            "inline_wait_seconds": 3,
            "shop_timeout_seconds": 5,
            "retry_base_seconds": 5,
            "retry_max_seconds": 600,
            "give_up_after_seconds": 86400,
            "recover_after_seconds": 30,
            "recover_interval_seconds": 15,
            "expire_interval_seconds": 86400,
            "return_points_on_expiry": True,
            "refund_returns_points": False,
            "rate_limit_per_minute": 10,
        },
    },
    "shops": [],
    # --- issue 7: connecting shops, webhook health, reconciliation, backfill
    "secret_key": None,  # None: a random key kept in data_dir/secret.key (encrypts stored shop credentials)
    "public_url": None,  # the bridge's public base URL, where shops deliver webhooks (bridge connect)
    "sync": {
        "reconcile_interval_seconds": 600,
        "reconcile_overlap_seconds": 300,
        "reconcile_initial_lookback_hours": 24,
        "webhook_health_interval_seconds": 300,
        "backfill_requests_per_second": 5,
        "shop_timeout_seconds": 20,
    },
    # The bridge's clock is the system clock shifted by this many seconds. Production leaves it at 0; tests pin the
    # bridge to a fixed date with it, and an owner can rehearse holds and expiry ("as if it were next month").
    "clock": {"offset_seconds": 0},
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
    demo: bool = False  # serve the demo shop page at / with a signed token for a made-up shopper (never a real shop)
    # An entry without url (``{id, widget_secret}``) is completed by its stored ``bridge connect`` connection:
    # url, keys, webhook secret and, unless given here, currency and minor_unit (bridge.sync.shops).
    minor_unit_given: bool = False

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
    rewards: tuple[RewardSettings, ...] = ()
    redemption: RedemptionSettings = field(default_factory=lambda: RedemptionSettings())
    referrals: ReferralSettings = field(default_factory=lambda: ReferralSettings())
    earning: EarningSettings = field(default_factory=lambda: EarningSettings())  # issue 3: rules, hold, expiry


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
    sync: SyncSettings = field(default_factory=lambda: SyncSettings())
    secret_key: str = field(default="", repr=False)
    public_url: str = ""
    clock_offset_seconds: float = 0.0
    trusted_proxies: int = 0

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
    from_env = _apply_env(raw, env, source)
    if overrides:
        _deep_merge(raw, copy.deepcopy(dict(overrides)))
    try:
        return _validate(raw, source, base_dir=config_path.parent if source != "<defaults>" else Path())
    except ConfigError as exc:
        raise _blame_environment(exc, from_env) from exc


def _blame_environment(exc: ConfigError, from_env: Mapping[str, str]) -> ConfigError:
    """The error names the ``BRIDGE_*`` variable when the bad value came from one (not the file)."""
    for key, name in from_env.items():
        if exc.key == key or exc.key.startswith((f"{key}.", f"{key}[")):
            return ConfigError(f"{name} (environment, over {exc.source})", exc.key, exc.reason)
    return exc


def settings_from(mapping: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the built-in defaults and ``mapping`` (then ``environ``'s overrides): no config file is read,
    whatever the working directory holds. For tests and for embedding the bridge."""
    raw = copy.deepcopy(DEFAULTS)
    _deep_merge(raw, copy.deepcopy(dict(mapping)))
    from_env = _apply_env(raw, {} if environ is None else environ, "<mapping>")
    try:
        return _validate(raw, "<mapping>", base_dir=Path())
    except ConfigError as exc:
        raise _blame_environment(exc, from_env) from exc


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


def _apply_env(raw: dict[str, Any], env: Mapping[str, str], source: str) -> dict[str, str]:
    """Apply ``BRIDGE_*`` overrides; returns {key as errors name it: variable} for the ones applied."""
    applied: dict[str, str] = {}
    for name, text in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or name == "BRIDGE_CONFIG":
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        try:
            value = yaml.safe_load(text) if text else ""
        except yaml.YAMLError:
            value = text
        applied[_set_path(raw, parts, value, name)] = name
    return applied


def _set_path(node: Any, parts: list[str], value: Any, env_name: str) -> str:
    """Set ``value`` at ``parts``; returns the key as validation errors spell it (``shops[0].url``)."""
    key = ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit():
                raise ConfigError(env_name, ".".join(parts), "expected a list index")
            index = int(part)
            key += f"[{index}]"
            while len(node) <= index:
                node.append({})
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict):
            key += f".{part}" if key else part
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise ConfigError(env_name, ".".join(parts), "cannot set a key inside a scalar")
    return key


class _Checker:
    """Reads typed values out of the merged mapping, naming the offending key on failure."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, reason: str) -> ConfigError:
        return ConfigError(self.source, key, reason)

    def mapping(self, value: Any, key: str, *, allowed: Iterable[str] | None = None) -> dict[str, Any]:
        """A mapping; with ``allowed``, any other key is refused (a typo must not silently mean the default)."""
        if not isinstance(value, dict):
            raise self.fail(key, "must be a mapping")
        if allowed is not None:
            known = set(allowed)
            for name in value:
                if name not in known:
                    raise ConfigError.unknown_key(self.source, f"{key}.{name}" if key else str(name), known)
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


def _validate(raw: dict[str, Any], source: str, base_dir: Path) -> Settings:
    c = _Checker(source)
    c.mapping(raw, "", allowed=DEFAULTS)
    # Relative to the config file, not to wherever the command happens to run (else: a new, empty database there).
    data_dir = (base_dir / c.string(raw["data_dir"], "data_dir")).resolve()
    database_url = raw["database_url"]
    if database_url is None:
        database_url = f"sqlite:///{(data_dir / 'bridge.db').resolve()}"
    database_url = c.string(database_url, "database_url")
    if not database_url.startswith(("sqlite://", "postgresql")):
        raise c.fail("database_url", "must be a sqlite:// or postgresql:// URL")
    redis_url = c.string(raw["redis_url"], "redis_url")
    if redis_url != "embedded" and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise c.fail("redis_url", "must be 'embedded' or a redis://, rediss:// or unix:// URL")
    admin = c.mapping(raw["admin"], "admin", allowed=DEFAULTS["admin"])
    keys = admin.get("api_keys") or []
    if not isinstance(keys, list):
        raise c.fail("admin.api_keys", "must be a list of strings")
    api_keys = tuple(c.string(k, f"admin.api_keys[{i}]") for i, k in enumerate(keys))
    for i, k in enumerate(api_keys):
        if len(k) < 16:
            raise c.fail(f"admin.api_keys[{i}]", "must be at least 16 characters long")
    webhooks = c.mapping(raw["webhooks"], "webhooks", allowed=DEFAULTS["webhooks"])
    return Settings(
        source=source,
        data_dir=data_dir,
        database_url=database_url,
        redis_url=redis_url,
        log_level=c.choice(str(raw["log_level"]).upper(), "log_level", ("DEBUG", "INFO", "WARNING", "ERROR")),
        admin_api_keys=api_keys,
        max_body_bytes=c.integer(webhooks.get("max_body_bytes"), "webhooks.max_body_bytes", minimum=1024),
        inbox=_inbox(c, c.mapping(raw["inbox"], "inbox", allowed=DEFAULTS["inbox"])),
        program=_program(c, c.mapping(raw["program"], "program", allowed=_PROGRAM_KEYS)),
        shops=_shops(c, raw["shops"]),
        sync=_sync(c, c.mapping(raw["sync"], "sync", allowed=DEFAULTS["sync"])),
        secret_key=_secret_key(c, raw.get("secret_key")),
        public_url=_public_url(c, raw.get("public_url")),
        clock_offset_seconds=_clock_offset(c, c.mapping(raw["clock"], "clock", allowed=DEFAULTS["clock"])),
        trusted_proxies=c.integer(raw.get("trusted_proxies"), "trusted_proxies", minimum=0),
    )


def _clock_offset(c: _Checker, raw: dict[str, Any]) -> float:
    value = raw.get("offset_seconds", 0)
    # ten years either way is plenty for tests and rehearsals, and keeps datetime arithmetic in range
    if isinstance(value, bool) or not isinstance(value, int | float) or not abs(value) <= 10 * 366 * 86400:
        raise c.fail("clock.offset_seconds", "must be a number of seconds within ten years of 0")
    return float(value)


def _inbox(c: _Checker, raw: dict[str, Any]) -> InboxSettings:
    return InboxSettings(
        batch_size=c.integer(raw.get("batch_size"), "inbox.batch_size", minimum=1),
        max_attempts=c.integer(raw.get("max_attempts"), "inbox.max_attempts", minimum=1),
        retry_base_seconds=c.integer(raw.get("retry_base_seconds"), "inbox.retry_base_seconds", minimum=0),
        retry_max_seconds=c.integer(raw.get("retry_max_seconds"), "inbox.retry_max_seconds", minimum=0),
        sweep_interval_seconds=float(c.decimal(raw.get("sweep_interval_seconds"), "inbox.sweep_interval_seconds")),
    )


def _program(c: _Checker, raw: dict[str, Any]) -> ProgramSettings:
    earn = c.mapping(raw.get("earn"), "program.earn", allowed=DEFAULTS["program"]["earn"])
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
        rewards=_rewards(c, raw.get("rewards")),
        redemption=_redemption(c, raw.get("redemption")),
        referrals=_referrals(c, raw.get("referrals")),
        earning=parse_earning(c.source, raw),
    )


def _shops(c: _Checker, raw: Any) -> tuple[ShopSettings, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise c.fail("shops", "must be a list")
    shops: list[ShopSettings] = []
    for i, item in enumerate(raw):
        key = f"shops[{i}]"
        entry = c.mapping(item, key, allowed=set(ShopSettings.__dataclass_fields__) - {"minor_unit_given"})
        shop_id = c.string(entry.get("id"), f"{key}.id")
        if not SHOP_ID_PATTERN.match(shop_id):
            raise c.fail(f"{key}.id", "must be lower-case letters, digits, '-' or '_' (it appears in URLs)")
        if any(s.id == shop_id for s in shops):
            raise c.fail(f"{key}.id", f"duplicate shop id {shop_id!r}")
        # Without url, the entry only adds to a shop connected with `bridge connect` (its url, keys and secret are
        # stored encrypted): until connected, such a shop refuses deliveries and has no API access.
        from_connection = entry.get("url") is None
        url = "" if from_connection else c.string(entry.get("url"), f"{key}.url")
        if url and not url.startswith(("http://", "https://")):
            raise c.fail(f"{key}.url", "must start with http:// or https://")
        given_currency = entry.get("currency")
        currency = "" if from_connection and given_currency is None else c.string(given_currency, f"{key}.currency")
        currency = currency.upper()
        if currency and not re.fullmatch(r"[A-Z]{3}", currency):
            raise c.fail(f"{key}.currency", "must be an ISO 4217 code such as USD")
        # May be empty for a shop set up with `bridge connect`, which stores its own (encrypted) secret; a shop
        # with no secret at all refuses every delivery (fails closed) and `bridge check-config` warns.
        secret = c.string(entry.get("webhook_secret", ""), f"{key}.webhook_secret", allow_empty=True)
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
                demo=_boolean(c, entry.get("demo", False), f"{key}.demo"),
                minor_unit_given=minor is not None,
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
        if not shop_url:
            return ()  # a shop completed by `bridge connect`: its connected url's origin (bridge.sync.shops)
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


# --- issue 4: rewards catalogue and redemption ---------------------------------------------------------------
REWARD_TYPES = ("fixed_cart", "percent", "free_shipping", "variable")
REWARD_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_REWARD_KEYS = {
    "id",
    "title",
    "description",
    "type",
    "points",
    "value",
    "step",
    "min_points",
    "max_points",
    "currency_per_point",
    "minimum_amount",
    "validity_days",
    "individual_use",
    "product_ids",
    "excluded_product_ids",
    "product_categories",
    "excluded_product_categories",
    "limit",
    "enabled",
}


@dataclass(frozen=True)
class RewardLimit:
    """At most ``count`` redemptions of this reward per member within ``period_days``."""

    count: int
    period_days: int


@dataclass(frozen=True)
class RewardSettings:
    """One entry of ``program.rewards``: what a member can turn points into.

    ``points``/``value`` for fixed_cart (amount off), percent (percentage off) and free_shipping (no value);
    ``variable`` spends any multiple of ``step`` between ``min_points`` and ``max_points`` at
    ``currency_per_point`` each.
    """

    id: str
    title: str
    type: str
    description: str = ""
    points: int = 0
    value: Decimal = Decimal(0)
    step: int = 0
    min_points: int = 0
    max_points: int = 0
    currency_per_point: Decimal = Decimal(0)
    minimum_amount: Decimal = Decimal(0)
    validity_days: int = 30
    individual_use: bool = True
    product_ids: tuple[int, ...] = ()
    excluded_product_ids: tuple[int, ...] = ()
    product_categories: tuple[int, ...] = ()
    excluded_product_categories: tuple[int, ...] = ()
    limit: RewardLimit | None = None
    enabled: bool = True

    @property
    def is_variable(self) -> bool:
        return self.type == "variable"

    @property
    def entry_points(self) -> int:
        """The fewest points that buy this reward."""
        return self.min_points if self.is_variable else self.points


@dataclass(frozen=True)
class RedemptionSettings:
    code_prefix: str = ""
    code_length: int = 12
    inline_wait_seconds: float = 3.0
    shop_timeout_seconds: float = 5.0
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 600.0
    give_up_after_seconds: float = 86400.0
    recover_after_seconds: float = 30.0
    recover_interval_seconds: float = 15.0
    expire_interval_seconds: float = 86400.0
    return_points_on_expiry: bool = True
    refund_returns_points: bool = False
    rate_limit_per_minute: int = 10


def _boolean(c: _Checker, value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise c.fail(key, "must be true or false")
    return value


def _id_list(c: _Checker, value: Any, key: str) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise c.fail(key, "must be a list of ids")
    return tuple(c.integer(v, f"{key}[{i}]", minimum=1) for i, v in enumerate(value))


def _rewards(c: _Checker, raw: Any) -> tuple[RewardSettings, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise c.fail("program.rewards", "must be a list of rewards")
    rewards: list[RewardSettings] = []
    for i, item in enumerate(raw):
        key = f"program.rewards[{i}]"
        entry = c.mapping(item, key, allowed=_REWARD_KEYS)
        reward_id = c.string(entry.get("id"), f"{key}.id")
        if not REWARD_ID_PATTERN.match(reward_id):
            raise c.fail(f"{key}.id", "must be lower-case letters, digits, '-' or '_'")
        if any(r.id == reward_id for r in rewards):
            raise c.fail(f"{key}.id", f"duplicate reward id {reward_id!r}")
        kind = c.choice(entry.get("type"), f"{key}.type", REWARD_TYPES)
        fields_: dict[str, Any] = {}
        if kind == "variable":
            step = c.integer(entry.get("step"), f"{key}.step", minimum=1)
            low = c.integer(entry.get("min_points", step), f"{key}.min_points", minimum=1)
            high = c.integer(entry.get("max_points"), f"{key}.max_points", minimum=low)
            if low % step or high % step:
                raise c.fail(f"{key}.min_points", "min_points and max_points must be multiples of step")
            per_point = c.decimal(entry.get("currency_per_point"), f"{key}.currency_per_point")
            if per_point <= 0:
                raise c.fail(f"{key}.currency_per_point", "must be more than zero")
            fields_ = {"step": step, "min_points": low, "max_points": high, "currency_per_point": per_point}
        else:
            fields_["points"] = c.integer(entry.get("points"), f"{key}.points", minimum=1)
            if kind != "free_shipping":
                value = c.decimal(entry.get("value"), f"{key}.value")
                if value <= 0 or (kind == "percent" and value > 100):
                    raise c.fail(f"{key}.value", "must be more than zero (and at most 100 for percent)")
                fields_["value"] = value
        limit_raw = entry.get("limit")
        limit = None
        if limit_raw is not None:
            lim = c.mapping(limit_raw, f"{key}.limit", allowed=RewardLimit.__dataclass_fields__)
            limit = RewardLimit(
                count=c.integer(lim.get("count"), f"{key}.limit.count", minimum=1),
                period_days=c.integer(lim.get("period_days"), f"{key}.limit.period_days", minimum=1),
            )
        rewards.append(
            RewardSettings(
                id=reward_id,
                title=c.string(entry.get("title"), f"{key}.title"),
                type=kind,
                description=c.string(entry.get("description", ""), f"{key}.description", allow_empty=True),
                minimum_amount=c.decimal(entry.get("minimum_amount", 0), f"{key}.minimum_amount"),
                validity_days=c.integer(entry.get("validity_days", 30), f"{key}.validity_days", minimum=1),
                individual_use=_boolean(c, entry.get("individual_use", True), f"{key}.individual_use"),
                product_ids=_id_list(c, entry.get("product_ids"), f"{key}.product_ids"),
                excluded_product_ids=_id_list(c, entry.get("excluded_product_ids"), f"{key}.excluded_product_ids"),
                product_categories=_id_list(c, entry.get("product_categories"), f"{key}.product_categories"),
                excluded_product_categories=_id_list(
                    c, entry.get("excluded_product_categories"), f"{key}.excluded_product_categories"
                ),
                limit=limit,
                enabled=_boolean(c, entry.get("enabled", True), f"{key}.enabled"),
                **fields_,
            )
        )
    return tuple(rewards)


def _redemption(c: _Checker, raw: Any) -> RedemptionSettings:
    r = c.mapping(raw if raw is not None else {}, "program.redemption", allowed=DEFAULTS["program"]["redemption"])
    prefix = c.string(r.get("code_prefix", ""), "program.redemption.code_prefix", allow_empty=True).lower()
    if not re.fullmatch(r"[a-z0-9-]{0,16}", prefix):
        raise c.fail("program.redemption.code_prefix", "at most 16 lower-case letters, digits or '-'")

    def seconds(name: str) -> float:
        return float(c.decimal(r.get(name), f"program.redemption.{name}"))

    return RedemptionSettings(
        code_prefix=prefix,
        code_length=c.integer(r.get("code_length"), "program.redemption.code_length", minimum=10),
        inline_wait_seconds=seconds("inline_wait_seconds"),
        shop_timeout_seconds=max(seconds("shop_timeout_seconds"), 0.1),
        retry_base_seconds=seconds("retry_base_seconds"),
        retry_max_seconds=seconds("retry_max_seconds"),
        give_up_after_seconds=seconds("give_up_after_seconds"),
        recover_after_seconds=seconds("recover_after_seconds"),
        recover_interval_seconds=seconds("recover_interval_seconds"),
        expire_interval_seconds=seconds("expire_interval_seconds"),
        return_points_on_expiry=_boolean(
            c, r.get("return_points_on_expiry"), "program.redemption.return_points_on_expiry"
        ),
        refund_returns_points=_boolean(c, r.get("refund_returns_points"), "program.redemption.refund_returns_points"),
        rate_limit_per_minute=c.integer(
            r.get("rate_limit_per_minute"), "program.redemption.rate_limit_per_minute", minimum=1
        ),
    )


# --- issue 7: connecting shops, webhook health, reconciliation, backfill -----------------------------------------
@dataclass(frozen=True)
class SyncSettings:
    reconcile_interval_seconds: int = 600  # 0 disables the periodic reconciliation
    reconcile_overlap_seconds: int = 300  # each window starts this far before the last watermark (clock skew)
    reconcile_initial_lookback_hours: int = 24  # the first window of a shop that was never reconciled
    webhook_health_interval_seconds: int = 300  # 0 disables the webhook health check
    backfill_requests_per_second: float = 5.0  # polite to the shop; 0 means unbounded
    shop_timeout_seconds: float = 20.0


def _sync(c: _Checker, raw: dict[str, Any]) -> SyncSettings:
    return SyncSettings(
        reconcile_interval_seconds=c.integer(
            raw.get("reconcile_interval_seconds"), "sync.reconcile_interval_seconds", minimum=0
        ),
        reconcile_overlap_seconds=c.integer(
            raw.get("reconcile_overlap_seconds"), "sync.reconcile_overlap_seconds", minimum=0
        ),
        reconcile_initial_lookback_hours=c.integer(
            raw.get("reconcile_initial_lookback_hours"), "sync.reconcile_initial_lookback_hours", minimum=0
        ),
        webhook_health_interval_seconds=c.integer(
            raw.get("webhook_health_interval_seconds"), "sync.webhook_health_interval_seconds", minimum=0
        ),
        backfill_requests_per_second=float(
            c.decimal(raw.get("backfill_requests_per_second"), "sync.backfill_requests_per_second")
        ),
        shop_timeout_seconds=float(c.decimal(raw.get("shop_timeout_seconds"), "sync.shop_timeout_seconds")),
    )


def _secret_key(c: _Checker, raw: Any) -> str:
    if raw is None:
        return ""
    key = c.string(raw, "secret_key")
    if len(key) < 32:
        raise c.fail("secret_key", "must be at least 32 characters long (it encrypts stored shop credentials)")
    return key


def _public_url(c: _Checker, raw: Any) -> str:
    if raw is None:
        return ""
    url = c.string(raw, "public_url").rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise c.fail("public_url", "must be an absolute http:// or https:// URL, such as https://loyalty.example")
    return url


# --- issue 5: referrals -------------------------------------------------------------------------------------------
FRIEND_REWARD_TYPES = ("fixed_cart", "percent", "free_shipping")


@dataclass(frozen=True)
class FriendReward:
    """The welcome coupon a referred friend gets: single-use, locked to the friend's e-mail."""

    type: str = "fixed_cart"
    value: Decimal = Decimal(10)
    minimum_amount: Decimal = Decimal(0)
    validity_days: int = 30
    individual_use: bool = True
    title: str = "10 off your first order"
    description: str = "A welcome gift from a friend."


@dataclass(frozen=True)
class ReferralSettings:
    enabled: bool = False
    referrer_points: int = 500
    friend_points: int = 0  # points for the friend too, when their order qualifies
    friend_reward: FriendReward = field(default_factory=FriendReward)
    min_order_amount: Decimal = Decimal(0)  # a qualifying order's total, net of refunds
    referrer_monthly_cap: int = 10  # friends' first orders counted per calendar month (UTC), not claims; 0 = no cap
    hold_days: int | None = None  # None: the same hold as earned points (program.earn.hold_days)
    pending_during_hold: bool = False  # show the reward as pending from the friend's completed order on
    link_base: str = ""  # where /r/<code> is served; empty: public_url
    landing_path: str = "/"  # on the shop, where a referral link lands (?ref=<code> appended)
    code_length: int = 8
    claims_per_ip_per_hour: int = 10
    claims_per_code_per_hour: int = 30
    qualify_interval_seconds: int = 300
    shops: Mapping[str, ReferralLinkSettings] = field(default_factory=dict)  # per-shop link_base / landing_path

    def link_settings(self, shop_id: str) -> ReferralLinkSettings:
        default = ReferralLinkSettings(self.link_base, self.landing_path)
        own = self.shops.get(shop_id)
        if own is None:
            return default
        return ReferralLinkSettings(own.link_base or default.link_base, own.landing_path or default.landing_path)


@dataclass(frozen=True)
class ReferralLinkSettings:
    link_base: str = ""
    landing_path: str = ""


_REFERRAL_KEYS = {f for f in ReferralSettings.__dataclass_fields__}
_FRIEND_REWARD_KEYS = {f for f in FriendReward.__dataclass_fields__}


def _referrals(c: _Checker, raw: Any) -> ReferralSettings:
    if raw is None:
        return ReferralSettings()
    data = c.mapping(raw, "program.referrals", allowed=_REFERRAL_KEYS)
    d = ReferralSettings()
    k = "program.referrals."
    hold = data.get("hold_days", d.hold_days)
    link_base = c.string(data.get("link_base", d.link_base) or "", k + "link_base", allow_empty=True).rstrip("/")
    if link_base and not link_base.startswith(("http://", "https://")):
        raise c.fail(k + "link_base", "must be an absolute http:// or https:// URL")
    landing = c.string(data.get("landing_path", d.landing_path), k + "landing_path")
    if not landing.startswith("/"):
        raise c.fail(k + "landing_path", "must be a path on the shop, starting with /")
    return ReferralSettings(
        enabled=_boolean(c, data.get("enabled", d.enabled), k + "enabled"),
        referrer_points=c.integer(data.get("referrer_points", d.referrer_points), k + "referrer_points", minimum=0),
        friend_points=c.integer(data.get("friend_points", d.friend_points), k + "friend_points", minimum=0),
        friend_reward=_friend_reward(c, data.get("friend_reward")),
        min_order_amount=c.decimal(data.get("min_order_amount", str(d.min_order_amount)), k + "min_order_amount"),
        referrer_monthly_cap=c.integer(
            data.get("referrer_monthly_cap", d.referrer_monthly_cap), k + "referrer_monthly_cap", minimum=0
        ),
        hold_days=None if hold is None else c.integer(hold, k + "hold_days", minimum=0),
        pending_during_hold=_boolean(
            c, data.get("pending_during_hold", d.pending_during_hold), k + "pending_during_hold"
        ),
        link_base=link_base,
        landing_path=landing,
        code_length=c.integer(data.get("code_length", d.code_length), k + "code_length", minimum=6),
        claims_per_ip_per_hour=c.integer(
            data.get("claims_per_ip_per_hour", d.claims_per_ip_per_hour), k + "claims_per_ip_per_hour", minimum=1
        ),
        claims_per_code_per_hour=c.integer(
            data.get("claims_per_code_per_hour", d.claims_per_code_per_hour), k + "claims_per_code_per_hour", minimum=1
        ),
        qualify_interval_seconds=c.integer(
            data.get("qualify_interval_seconds", d.qualify_interval_seconds), k + "qualify_interval_seconds", minimum=0
        ),
        shops=_referral_shops(c, data.get("shops")),
    )


def _referral_shops(c: _Checker, raw: Any) -> dict[str, ReferralLinkSettings]:
    if raw is None:
        return {}
    key = "program.referrals.shops"
    found = {}
    for shop_id, entry in c.mapping(raw, key).items():
        item = c.mapping(entry, f"{key}.{shop_id}", allowed=ReferralLinkSettings.__dataclass_fields__)
        base = c.string(item.get("link_base") or "", f"{key}.{shop_id}.link_base", allow_empty=True).rstrip("/")
        if base and not base.startswith(("http://", "https://")):
            raise c.fail(f"{key}.{shop_id}.link_base", "must be an absolute http:// or https:// URL")
        path = c.string(item.get("landing_path") or "", f"{key}.{shop_id}.landing_path", allow_empty=True)
        if path and not path.startswith("/"):
            raise c.fail(f"{key}.{shop_id}.landing_path", "must be a path on the shop, starting with /")
        found[str(shop_id)] = ReferralLinkSettings(base, path)
    return found


def _friend_reward(c: _Checker, raw: Any) -> FriendReward:
    d = FriendReward()
    if raw is None:
        return d
    k = "program.referrals.friend_reward."
    data = c.mapping(raw, k.rstrip("."), allowed=_FRIEND_REWARD_KEYS)
    kind = c.choice(data.get("type", d.type), k + "type", FRIEND_REWARD_TYPES)
    value = c.decimal(data.get("value", str(d.value) if kind != "free_shipping" else "0"), k + "value")
    if kind == "percent" and not 0 < value <= 100:
        raise c.fail(k + "value", "a percentage must be more than 0 and at most 100")
    if kind == "fixed_cart" and value <= 0:
        raise c.fail(k + "value", "must be more than 0")
    return FriendReward(
        type=kind,
        value=value,
        minimum_amount=c.decimal(data.get("minimum_amount", str(d.minimum_amount)), k + "minimum_amount"),
        validity_days=c.integer(data.get("validity_days", d.validity_days), k + "validity_days", minimum=1),
        individual_use=_boolean(c, data.get("individual_use", d.individual_use), k + "individual_use"),
        title=c.string(data.get("title", d.title), k + "title"),
        description=c.string(data.get("description", d.description), k + "description", allow_empty=True),
    )


# --- issue 3: earning rules, hold and expiry (parsed in bridge/rules/config.py, which is pure) -------------------
from bridge.rules.config import DEFAULTS as _EARNING_DEFAULTS  # noqa: E402
from bridge.rules.config import EarningSettings, parse_earning  # noqa: E402

DEFAULTS["program"]["timezone"] = "UTC"
DEFAULTS["program"]["membership"] = {"policy": "open", "qualifying_total": "0"}
DEFAULTS["program"]["earn"].update(copy.deepcopy(_EARNING_DEFAULTS))
# program.referrals has no entry in DEFAULTS (its defaults are ReferralSettings'), yet it is a known section.
_PROGRAM_KEYS = {*DEFAULTS["program"], "referrals"}

"""Settings: built-in defaults < config.yaml < BRIDGE_* environment variables; validated, then frozen.

The keys, their types, ranges and defaults are one declarative schema, ``bridge.config_schema``; this module reads
the file and the environment, and holds the frozen dataclasses the schema builds.

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
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from bridge.errors import ConfigError
from bridge.notifications.settings import NotificationSettings
from bridge.segments.settings import SegmentSettings
from bridge.tiers.settings import TierSettings

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
    tiers: TierSettings | None = None  # issue 16: None when the program has no tiers
    segments: SegmentSettings = field(default_factory=lambda: SegmentSettings())  # issue 16


@dataclass(frozen=True)
class InboxSettings:
    batch_size: int
    max_attempts: int
    retry_base_seconds: int
    retry_max_seconds: int
    sweep_interval_seconds: float


@dataclass(frozen=True)
class MetricsSettings:
    """``GET /metrics`` (issue 19): who may scrape it."""

    enabled: bool = True
    allow: tuple[str, ...] = ("127.0.0.1/32", "::1/128")  # networks, CIDR


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
    notifications: NotificationSettings = field(default_factory=NotificationSettings)  # issue 17
    log_format: str = "text"  # issue 19: text | json
    metrics: MetricsSettings = field(default_factory=lambda: MetricsSettings())

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
    from bridge import config_schema  # it builds this module's dataclasses

    env = os.environ if environ is None else environ
    explicit = path is not None or "BRIDGE_CONFIG" in env
    config_path = Path(path if path is not None else env.get("BRIDGE_CONFIG", DEFAULT_CONFIG_PATH))
    raw: dict[str, Any] = {}
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
        return config_schema.load(raw, source, base_dir=config_path.parent if source != "<defaults>" else Path())
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
    from bridge import config_schema  # it builds this module's dataclasses

    raw: dict[str, Any] = copy.deepcopy(dict(mapping))
    from_env = _apply_env(raw, {} if environ is None else environ, "<mapping>")
    try:
        return config_schema.load(raw, "<mapping>", base_dir=Path())
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
            else:  # a section the file does not have yet: a list when the next part is an index
                node = node.setdefault(part, [] if parts[i + 1].isdigit() else {})
        else:
            raise ConfigError(env_name, ".".join(parts), "cannot set a key inside a scalar")
    return key


# ISO 4217 exponents that differ from 2, plus IRR which WooCommerce stores without decimals.
_MINOR_UNITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "IRR", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF"), 0),
    **dict.fromkeys(("UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def currency_minor_unit(currency: str) -> int:
    """Number of decimals of ``currency`` (2 unless listed)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


# --- issue 4: rewards catalogue and redemption ---------------------------------------------------------------
REWARD_TYPES = ("fixed_cart", "percent", "free_shipping", "variable")
REWARD_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


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
    tiers: tuple[str, ...] = ()  # issue 16: only members of these tiers may redeem it (empty: everyone)

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


# --- issue 7: connecting shops, webhook health, reconciliation, backfill -----------------------------------------
@dataclass(frozen=True)
class SyncSettings:
    reconcile_interval_seconds: int = 600  # 0 disables the periodic reconciliation
    reconcile_overlap_seconds: int = 300  # each window starts this far before the last watermark (clock skew)
    reconcile_initial_lookback_hours: int = 24  # the first window of a shop that was never reconciled
    webhook_health_interval_seconds: int = 300  # 0 disables the webhook health check
    backfill_requests_per_second: float = 5.0  # polite to the shop; 0 means unbounded
    shop_timeout_seconds: float = 20.0


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


# --- issue 3: earning rules, hold and expiry (their dataclasses live in bridge/rules/config.py, which is pure) -----
from bridge.rules.config import EarningSettings  # noqa: E402

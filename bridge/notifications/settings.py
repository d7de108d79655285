"""The ``notifications:`` section of the configuration, as frozen dataclasses (validated by ``bridge.config_schema``).

Imports nothing of ours: ``bridge.config`` holds a ``NotificationSettings`` in its ``Settings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

CHANNELS = ("email", "sms", "webhook")
MEMBER_CHANNELS = ("email", "sms")  # reach a person: opt-outs, quiet hours and the daily cap apply
EMAIL_SECURITY = ("none", "starttls", "tls")
SMS_PROVIDERS = ("none", "http_json", "kavenegar")
CALENDARS = ("gregorian", "jalali")
LOCALES = ("en", "fa")

EVENT_TYPES = (
    "points_earned",
    "points_released",
    "points_expiring_soon",
    "points_expired",
    "reward_issued",
    "coupon_expiring",
    "referral_friend_joined",
    "referral_qualified",
    "thank_you",
    "birthday",
    "win_back",
    "occasion",
    "tier_up",
    "tier_down",
    "tier_downgrade_warning",
    "campaign",
)
"""The events the bridge writes today (the tier events come from ``bridge.tiers``). The list is open: ``events:``
accepts any such name (an event nobody writes is simply never sent)."""


@dataclass(frozen=True)
class EmailSettings:
    host: str = ""  # "": no e-mail channel
    port: int = 587
    security: str = "starttls"  # none | starttls | tls
    username: str = ""
    password: str = field(default="", repr=False)
    from_address: str = ""
    timeout_seconds: float = 10.0

    @property
    def enabled(self) -> bool:
        return bool(self.host and self.from_address)


@dataclass(frozen=True)
class SmsSettings:
    provider: str = "none"  # none | http_json | kavenegar
    url: str = ""  # http_json: where the JSON is posted; kavenegar: the API base (default https://api.kavenegar.com)
    api_key: str = field(default="", repr=False)  # http_json: sent as ``Authorization: Bearer``; kavenegar: in the path
    sender: str = ""
    timeout_seconds: float = 10.0

    @property
    def enabled(self) -> bool:
        return self.provider != "none"


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    url: str
    secret: str = field(repr=False)  # Standard Webhooks secret: ``whsec_`` + base64
    events: tuple[str, ...] = ()  # empty: every event

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


@dataclass(frozen=True)
class EventSettings:
    channels: tuple[str, ...] = ("email",)
    enabled: bool = True
    delay_days: int = 0


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def holds(self, local: time) -> bool:
        """Whether a message due at ``local`` (program time) waits: inside [start, end), which may span midnight."""
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True)
class Occasion:
    id: str
    calendar: str  # gregorian | jalali
    month: int
    day: int
    points: int = 0  # a gift on the day, once a year per member (0: a greeting only)
    segments: tuple[str, ...] = ()  # only members of these segments (issue 16); empty: every member


@dataclass(frozen=True)
class Campaign:
    """A message to a segment at a scheduled time ("double points this weekend", a special offer), sent once to
    each member who is in one of its segments when the campaign's time comes (within ``SEND_WINDOW`` after)."""

    id: str
    at: datetime  # aware, UTC (read in the program's zone when given without an offset)
    subject: str  # a shopper text: a string or one per locale (bridge.texts.LocalText)
    text: str
    segments: tuple[str, ...] = ()  # empty: every member
    points: int = 0  # an optional gift with the message, once per member


@dataclass(frozen=True)
class NotificationSettings:
    email: EmailSettings = field(default_factory=EmailSettings)
    sms: SmsSettings = field(default_factory=SmsSettings)
    webhooks: tuple[WebhookEndpoint, ...] = ()
    events: tuple[tuple[str, EventSettings], ...] = ()  # (event type, what members get), as configured
    quiet_hours: QuietHours | None = None
    max_per_member_per_day: int = 0  # 0: no cap
    locale: str = "en"
    dispatch_interval_seconds: float = 5.0
    batch_size: int = 200
    concurrency: int = 8  # messages in flight at once (threads, each with its own SMTP connection / HTTP session)
    max_attempts: int = 8
    retry_base_seconds: int = 30
    retry_max_seconds: int = 3600
    lease_seconds: int = 300
    win_back_days: int = 0  # 0: off
    coupon_expiring_days: int = 3
    occasions: tuple[Occasion, ...] = ()
    campaigns: tuple[Campaign, ...] = ()
    expiry_reminder_days: tuple[int, ...] = ()  # more `points_expiring_soon` messages, at these shorter horizons

    def event(self, event_type: str) -> EventSettings | None:
        """What members get for this event; None: nothing (an event not configured reaches only webhooks)."""
        chosen = dict(self.events).get(event_type)
        return chosen if chosen is not None and chosen.enabled else None

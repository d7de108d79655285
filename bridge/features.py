"""The composition root's list of features.

Registries (``bridge.jobs.schedule``'s periodic jobs, ``bridge.inbox.dispatch``'s order observers,
``bridge.web.widget_panel``'s sections) know nothing of the features that fill them: importing a feature's module
registers it. Every entry point calls ``load()`` once — ``create_app``, each ``bridge`` command that builds a
runtime, and scripts that build one themselves — so the registries are complete in every process. A new feature
adds its line here, and nowhere else.
"""

from __future__ import annotations


def load() -> None:
    """Import every feature module that registers periodic jobs or order observers (idempotent)."""
    import bridge.ledger.jobs  # release of pending points, expiry, birthdays
    import bridge.notifications.jobs  # outbox dispatcher, win-back/occasions/coupon reminders; order events observer
    import bridge.privacy.hooks  # issue 19: customer.deleted erases the account's member
    import bridge.redemption.jobs  # redemption recovery, coupon expiry, orphan coupons; coupon-used observer
    import bridge.referrals.jobs  # referral qualification; referral attribution observer
    import bridge.reports.jobs  # report rollups (daily points and members, member activity)
    import bridge.segments.jobs  # nightly RFM scoring and segment members
    import bridge.sync.jobs  # reconciliation, webhook health
    import bridge.tiers.jobs  # tier review; tier qualification observer
    import bridge.tiers.perks  # noqa: F401  issue 16: recurring tier perk coupons, once per period


def load_web() -> None:
    """The features' widget panel sections (the web app only)."""
    load()
    import bridge.web.redemption_api  # "rewards"
    import bridge.web.referrals_api  # "referral"
    import bridge.web.rules_api  # "ways_to_earn"
    import bridge.web.tiers_api  # "tier"
    import bridge.web.widget_api  # noqa: F401  "club", "member", "history"

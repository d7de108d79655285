"""Every console page module, imported once before the blueprint is registered (a page registers its routes
when its module is imported). A new page adds its line here."""

from __future__ import annotations


def load() -> None:
    import bridge.console.audit_page  # the audit log (owner)
    import bridge.console.auth_views  # login, logout, account
    import bridge.console.inbox_page  # deliveries, replay (issue 15, members branch)
    import bridge.console.members_pages  # members search, member page and actions
    import bridge.console.overview  # the home page
    import bridge.console.program_page  # the program: versions, drafts, publish (issue 14)
    import bridge.console.redemptions_page  # redemptions: stuck ones, retry, cancel
    import bridge.console.referrals_page  # referral funnel and list
    import bridge.console.reports_page  # reports: tables, a chart, CSV (issue 18)
    import bridge.console.shop_settings_page  # a shop's widget secret and origins (issue 14)
    import bridge.console.shops_page  # shop connection health, reconcile now
    import bridge.console.users_page  # noqa: F401  console users (owner)

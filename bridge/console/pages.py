"""Every console page module, imported once before the blueprint is registered (a page registers its routes
when its module is imported). A new page adds its line here."""

from __future__ import annotations


def load() -> None:
    import bridge.console.audit_page  # the audit log (owner)
    import bridge.console.auth_views  # login, logout, account
    import bridge.console.overview  # the home page
    import bridge.console.program_page  # noqa: F401  the published program, its versions

"""The Overview page (``console.overview``, the console's home). Its figures and charts come with the reports."""

from __future__ import annotations

from flask import render_template

from bridge.console.routing import Role, console_route


@console_route("/", role=Role.VIEWER)
def overview() -> str:
    return render_template("console/overview.html")

"""An order's pricing under a program other than the one this process follows: a draft (preview) or a past
version (the explanation of an old award shows the rules of its time)."""

from __future__ import annotations

import dataclasses
from typing import Any

from bridge.orders.service import ShopContext
from bridge.program import document
from bridge.program import service as programs
from bridge.rules import build_rules
from bridge.runtime import Runtime
from bridge.storage import db
from bridge.storage import program_versions as store


def with_document(rt: Runtime, shop_id: str, doc: dict[str, Any], version: int | None) -> ShopContext:
    """The published context with ``doc``'s program: its rules, paid statuses and point life."""
    program = document.parse(doc)
    rules = build_rules(program)
    return dataclasses.replace(
        rt.shop_context(shop_id),
        rules=rules,
        earning=program.earning,
        paid_statuses=frozenset(program.earn.paid_statuses),
        categories_of=rt.product_categories(shop_id) if rules.needs_categories else None,
        program_version=version,
    )


def of_version(rt: Runtime, shop_id: str, number: int) -> ShopContext:
    """The context of published version ``number``; ``VersionNotFound`` when there is none."""
    with db.read(rt.engine) as conn:
        row = store.version(conn, rt.program_id, number)
    if row is None:
        raise programs.VersionNotFound(f"no program version {number}")
    return with_document(rt, shop_id, row["document"], number)

"""Shop settings an owner edits live, over ``config.yaml``'s: the widget secret and the allowed origins (issue 14).

``bridge connect`` manages a shop's URL, keys and webhook secret; what it does not manage was a YAML edit and a
restart. Now it is a row in ``shop_setting`` (the widget secret sealed like the shop's credentials), written by
the admin API or the console, audited, and merged by every process at its next shops check (announced, so at
once). A key left NULL keeps ``config.yaml``'s value. Values are checked by the configuration's own schema.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from marshmallow import RAISE, Schema, ValidationError
from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.exc import SQLAlchemyError

from bridge.config import Settings
from bridge.config_schema import ShopSchema, config_error
from bridge.errors import BridgeError
from bridge.storage import audit, db
from bridge.storage import tables as t
from bridge.storage.clock import utcnow
from bridge.storage.db import insert_or_ignore
from bridge.storage.secretbox import SecretBox, SecretKeyError, box_for

log = logging.getLogger(__name__)

EDITABLE = ("widget_secret", "allowed_origins")


class ShopSettingsIn(Schema):
    """A change: any of the editable keys, each as ``config.yaml`` spells it; ``null`` returns to the config's."""

    class Meta:
        unknown = RAISE

    widget_secret = ShopSchema._declared_fields["widget_secret"]
    allowed_origins = ShopSchema._declared_fields["allowed_origins"]


class ShopNotServed(BridgeError):
    code = "unknown_shop"
    status = 404


def rows(engine: Engine, program_id: str) -> list[dict[str, Any]] | None:
    """The stored settings (a handful of rows); None when the database cannot say (no schema yet, down)."""
    try:
        with db.read(engine) as conn:
            c = t.shop_setting.c
            found = conn.execute(select(t.shop_setting).where(c.program_id == program_id).order_by(c.shop_id))
            return [dict(r) for r in found.mappings()]
    except SQLAlchemyError as exc:
        log.debug("shop settings not readable: %s", exc)
        return None


def fingerprint(found: list[dict[str, Any]]) -> tuple[Any, ...]:
    return tuple((r["shop_id"], r["widget_secret"], str(r["allowed_origins"]), r["updated_at"]) for r in found)


def applied(settings: Settings, found: list[dict[str, Any]]) -> Settings | None:
    """``settings`` with the stored values over each shop's; None when a sealed secret cannot be opened (the
    caller keeps what it has and tries again)."""
    if not found:
        return settings
    box = box_for(settings, create=False)
    by_shop = {r["shop_id"]: r for r in found}
    shops = []
    try:
        for shop in settings.shops:
            row = by_shop.get(shop.id)
            if row is None:
                shops.append(shop)
                continue
            changes: dict[str, Any] = {}
            if row["widget_secret"] is not None:
                changes["widget_secret"] = _open(box, row["widget_secret"])
            if row["allowed_origins"] is not None:
                changes["allowed_origins"] = tuple(row["allowed_origins"])
            shops.append(dataclasses.replace(shop, **changes))
    except SecretKeyError as exc:
        log.error("stored shop settings cannot be read: %s", exc)
        return None
    return dataclasses.replace(settings, shops=tuple(shops))


def _open(box: SecretBox | None, sealed: str) -> str:
    if box is None:
        raise SecretKeyError("a widget secret is stored but no secret key exists to open it")
    return str(box.open(sealed)["widget_secret"])


def validated(body: dict[str, Any]) -> dict[str, Any]:
    """The change in ``body``; ``ConfigError`` names the key (``allowed_origins[0]``) and the reason."""
    schema = ShopSettingsIn()
    resets = {k: None for k, v in body.items() if v is None and k in EDITABLE}  # back to config.yaml's value
    try:
        change: dict[str, Any] = schema.load({k: v for k, v in body.items() if k not in resets}, partial=True)
    except ValidationError as err:
        raise config_error("<shop settings>", err, schema) from err
    if "allowed_origins" in change and change["allowed_origins"] is not None:
        change["allowed_origins"] = [o.rstrip("/") for o in change["allowed_origins"]]
    return change | resets


def update(settings: Settings, engine: Engine, shop_id: str, change: dict[str, Any], *, actor: str) -> None:
    """Store ``change`` (validated) for ``shop_id``, audited without the secret's value."""
    if settings.shop(shop_id) is None:
        raise ShopNotServed(f"no shop {shop_id!r} is served by this bridge")
    values: dict[str, Any] = {}
    if "widget_secret" in change:
        secret = change["widget_secret"]
        box = box_for(settings, create=True)
        assert box is not None
        # "" turns the shop's widget API off, as in config.yaml; None returns to config.yaml's value
        values["widget_secret"] = box.seal({"widget_secret": secret}) if secret is not None else None
    if "allowed_origins" in change:
        values["allowed_origins"] = change["allowed_origins"]
    now = utcnow()
    with db.write(engine) as conn:
        _save(conn, settings.program.id, shop_id, values, actor=actor, now=now)
        audit.record(
            conn,
            program_id=settings.program.id,
            shop_id=shop_id,
            actor=actor,
            action="shop.settings_changed",
            target_type="shop",
            target_id=shop_id,
            details={
                **(
                    {"widget_secret": "changed" if change["widget_secret"] else "config"}
                    if "widget_secret" in change
                    else {}
                ),
                **({"allowed_origins": change["allowed_origins"]} if "allowed_origins" in change else {}),
            },
        )


def _audited(change: dict[str, Any]) -> dict[str, Any]:
    """The change as the audit log keeps it: whether the secret changed, never its value."""
    details = dict(change)
    if "widget_secret" in details:
        secret = details["widget_secret"]
        details["widget_secret"] = "config.yaml's" if secret is None else "changed" if secret else "off"
    return details


def _save(conn: Connection, program_id: str, shop_id: str, values: dict[str, Any], *, actor: str, now: Any) -> None:
    c = t.shop_setting.c
    row = {"shop_id": shop_id, "program_id": program_id, "widget_secret": None, "allowed_origins": None}
    if not insert_or_ignore(
        conn, t.shop_setting, {**row, **values, "updated_by": actor, "updated_at": now}, ["shop_id"]
    ):
        conn.execute(
            t.shop_setting.update().where(c.shop_id == shop_id).values(**values, updated_by=actor, updated_at=now)
        )
    stored = conn.execute(select(c.widget_secret, c.allowed_origins).where(c.shop_id == shop_id)).one()
    if stored.widget_secret is None and stored.allowed_origins is None:  # nothing left over the config's
        conn.execute(delete(t.shop_setting).where(c.shop_id == shop_id))


def view(settings: Settings, found: list[dict[str, Any]] | None, shop_id: str) -> dict[str, Any]:
    """What an owner sees: where each value comes from, never the secret itself."""
    shop = settings.shop(shop_id)
    if shop is None:
        raise ShopNotServed(f"no shop {shop_id!r} is served by this bridge")
    row = next((r for r in found or [] if r["shop_id"] == shop_id), None)
    return {
        "shop_id": shop_id,
        "widget_secret": {
            "set": bool(shop.widget_secret),
            "source": "database" if row and row["widget_secret"] is not None else "config",
        },
        "allowed_origins": {
            "value": list(shop.allowed_origins),
            "source": "database" if row and row["allowed_origins"] is not None else "config",
        },
        "updated_by": row["updated_by"] if row else None,
        "updated_at": row["updated_at"].isoformat() if row else None,
    }

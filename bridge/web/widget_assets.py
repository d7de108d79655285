"""Serves the shopper widget's static files from the bridge itself: ``GET /widget/v1/loyalty-bridge.js`` and
``GET /widget/v1/i18n/<lang>.json``.

Why the bridge serves them: the widget then talks to one host only (the bridge), a shop's CSP needs one entry,
and the script always matches the API it calls. The files live in the repository's ``widgets/`` folder (the
bridge runs from a checkout installed editable by ``scripts/bootstrap``; see docs/adr/0006-widgets.md).

Caching: a strong ETag (content hash) and one day of freshness plus a week of stale-while-revalidate, so a shop
page never waits on the bridge for the script and an upgrade reaches browsers within a day. A URL carrying
``?v=<etag>`` (what the WordPress plugin writes) is immutable for a year. CORS headers come from ``cors.py``.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, request

WIDGETS_DIR = Path(__file__).resolve().parents[2] / "widgets"
SCRIPT_NAME = "loyalty-bridge.js"
DEFAULT_LANGUAGE = "en"
LANG_RE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$")

FRESH = "public, max-age=86400, stale-while-revalidate=604800"
IMMUTABLE = "public, max-age=31536000, immutable"

bp = Blueprint("widget_assets", __name__, url_prefix="/widget/v1")


@dataclass(frozen=True)
class Asset:
    body: bytes
    etag: str
    mtime_ns: int


_cache: dict[Path, Asset] = {}
_lock = threading.Lock()


def load(path: Path) -> Asset | None:
    """The file's bytes and hash, re-read only when its mtime changes (cheap on every request)."""
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError:
        return None
    with _lock:
        cached = _cache.get(path)
        if cached is not None and cached.mtime_ns == mtime_ns:
            return cached
    body = path.read_bytes()
    asset = Asset(body, hashlib.sha256(body).hexdigest()[:20], mtime_ns)
    with _lock:
        _cache[path] = asset
    return asset


def _serve(asset: Asset, mimetype: str) -> Response:
    response = Response(asset.body, mimetype=mimetype)
    response.set_etag(asset.etag)
    response.headers["Cache-Control"] = IMMUTABLE if request.args.get("v") == asset.etag else FRESH
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Shops that isolate their pages (COEP) may still load the script from the bridge's origin.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.make_conditional(request)  # 304 (no body) when If-None-Match names this ETag
    return response


def language_file(lang: str) -> tuple[str, Path] | None:
    """The best file for ``lang``: ``fa-IR`` → ``fa-ir.json``, else ``fa.json``, else English."""
    lang = lang.lower()
    if not LANG_RE.match(lang):
        return None
    parts = lang.split("-")
    for size in range(len(parts), 0, -1):
        candidate = "-".join(parts[:size])
        path = WIDGETS_DIR / "i18n" / f"{candidate}.json"
        if path.is_file():
            return candidate, path
    return DEFAULT_LANGUAGE, WIDGETS_DIR / "i18n" / f"{DEFAULT_LANGUAGE}.json"


@bp.get(f"/{SCRIPT_NAME}")
def script() -> Response:
    asset = load(WIDGETS_DIR / SCRIPT_NAME)
    if asset is None:
        abort(404)
    return _serve(asset, "text/javascript")


@bp.get("/i18n/<lang>.json")
def messages(lang: str) -> Response:
    found = language_file(lang)
    asset = load(found[1]) if found else None
    if found is None or asset is None:
        abort(404)
    response = _serve(asset, "application/json")
    response.headers["Content-Language"] = found[0]
    return response


def register(app: Flask) -> None:
    app.register_blueprint(bp)

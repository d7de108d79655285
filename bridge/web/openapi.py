"""The public API described: ``GET /openapi.json`` (OpenAPI 3.1, built by apispec from the routes' marshmallow
schemas) and ``GET /docs`` (Redoc, vendored in ``static/vendor/``: no CDN).

Paths and methods come from the app's ``url_map``; what each route loads, answers and refuses comes from
``openapi_routes.OPERATIONS``. The document is built once per app, on first request.
"""

from __future__ import annotations

import re
from typing import Any

import marshmallow
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Blueprint, Flask, Response, current_app, jsonify, render_template
from werkzeug.routing import Rule

from bridge import limits
from bridge.errors import MalformedPayload
from bridge.web import openapi_schemas as out
from bridge.web.openapi_routes import OPERATIONS, Op, codes
from bridge.web.widget_auth import MAX_LIFETIME_SECONDS

TITLE = "Loyalty Bridge API"
API_VERSION = "1"
DOCUMENTED_PREFIXES = ("/admin/", "/widget/", "/webhooks/")
"""Every route under these is in the document (``tests/api`` checks it); a few others are too (health, links)."""

EXTENSION_KEY = "bridge.openapi"
DESCRIPTION = (
    "The admin, widget and webhook APIs of Loyalty Bridge. Every error is JSON, "
    '`{"error": {"code": ..., "message": ...}}` (some add details, e.g. `fields`), and its `code` is stable: '
    "each operation lists the codes it can answer, by status."
)

bp = Blueprint("openapi", __name__, static_folder="static", static_url_path="/docs/static", template_folder="templates")

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "adminKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "An admin API key from `admin.api_keys` in config.yaml: `Authorization: Bearer <key>`.",
    },
    "widgetToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": (
            "A shopper token the shop signs (HS256, the shop's `widget_secret`) for its signed-in customer: claims "
            f"`shop`, `sub` (customer id), `email`, `iat`, `exp` (at most {MAX_LIFETIME_SECONDS} s after `iat`)."
        ),
    },
    "webhookSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-WC-Webhook-Signature",
        "description": "base64(HMAC-SHA256(webhook secret, the raw body)), as WooCommerce signs every delivery.",
    },
}
_SECURITY = {"admin": "adminKey", "shopper": "widgetToken", "webhook": "webhookSignature"}
_TOKEN_CODES = (
    "token_missing",
    "token_invalid",
    "token_wrong_shop",
    "widget_disabled",
    "token_expired",
    "token_lifetime",
)
"""``bridge.web.widget_auth.WidgetUnauthorized``'s codes (401)."""
_CONVERTERS = re.compile(
    r"<(?:(?P<converter>[a-zA-Z_]+)(?:\((?P<arguments>[^)]*)\))?:)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>"
)


@bp.get("/openapi.json")
def document() -> Response:
    spec = current_app.extensions.get(EXTENSION_KEY)
    if spec is None:
        spec = current_app.extensions[EXTENSION_KEY] = build(current_app)
    response = jsonify(spec)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


DOCS_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'"
)
"""Redoc 3 would fetch its logo from its CDN and send usage telemetry to its vendor (``disable-telemetry`` asks it
not to): with this policy the browser itself lets the page reach nothing but the bridge."""


@bp.get("/docs")
def docs() -> Response:
    response = current_app.make_response(render_template("docs.html"))
    response.headers["Content-Security-Policy"] = DOCS_POLICY
    return response


def register(app: Flask) -> None:
    app.register_blueprint(bp)


# -- building the document ---------------------------------------------------------------------------------------------
def new_spec() -> APISpec:
    """An empty document with our marshmallow converter (names, and the Decimal fix of DESIGN.md §9)."""
    plugin = MarshmallowPlugin(schema_name_resolver=_schema_name)
    spec = APISpec(
        title=TITLE,
        version=API_VERSION,
        openapi_version="3.1.0",
        plugins=[plugin],
        info={"description": DESCRIPTION},
    )
    assert plugin.converter is not None
    plugin.converter.add_attribute_function(_decimal_as_text)  # type: ignore[no-untyped-call]
    return spec


def build(app: Flask) -> dict[str, Any]:
    spec = new_spec()
    for name, scheme in SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)
    spec.components.schema("Error", schema=out.Error)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        op = OPERATIONS.get(rule.endpoint)
        if op is None:
            continue
        path, parameters = _path(rule, op)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            spec.path(path=path, operations={method.lower(): _operation(rule, op, method, parameters)})
    return _query_never_null(spec.to_dict())


def _schema_name(schema: type[marshmallow.Schema] | marshmallow.Schema) -> str:
    """A component's name: the class's, and what an instance leaves out (``PreviewIn(exclude=...)``)."""
    cls = resolve_schema_cls(schema)
    name = cls.__name__ if isinstance(cls, type) else str(cls)
    excluded = sorted(schema.exclude) if isinstance(schema, marshmallow.Schema) else []
    return "_without_".join([name, *excluded])


def _path(rule: Rule, op: Op) -> tuple[str, list[dict[str, Any]]]:
    """``/members/<int:member_id>`` → ``/members/{member_id}`` and its parameter, bounded as the converter is."""
    parameters = []
    for match in _CONVERTERS.finditer(rule.rule):
        name = match["name"]
        if match["converter"] == "int":
            bound = re.search(r"max=(\d+)", match["arguments"] or "")
            maximum = int(bound[1]) if bound else limits.MAX_ROW_ID
            schema: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": maximum}
        else:
            schema = {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}
        parameters.append({"in": "path", "name": name, "required": True, "schema": op.path.get(name, schema)})
    return _CONVERTERS.sub(lambda m: "{" + m["name"] + "}", rule.rule), parameters


def _operation(rule: Rule, op: Op, method: str, path_parameters: list[dict[str, Any]]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": _operation_id(rule.endpoint),
        "summary": op.summary,
        "tags": [_tag(rule.rule)],
        "parameters": list(path_parameters),
        "responses": {},
    }
    if op.description:
        operation["description"] = op.description
    if op.auth:
        operation["security"] = [{_SECURITY[op.auth]: []}]
    if op.query is not None:
        operation["parameters"].append({"in": "query", "schema": op.query})
    operation["parameters"].extend(op.headers)
    if op.idempotency_key:
        operation["parameters"].append(
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": op.idempotency_key == "required",
                "description": "one fresh value per request; the same value again answers what the first did",
                "schema": {"type": "string", "minLength": 1, "maxLength": limits.MAX_IDEMPOTENCY_KEY_LENGTH},
            }
        )
    if op.body is not None:
        operation["requestBody"] = {
            "required": op.body_required,
            "content": {"application/json": {"schema": op.body}},
        }
    for status, answer in op.ok.items():
        operation["responses"][str(status)] = _success(status, answer)
        if answer is not None and op.links:
            operation["responses"][str(status)]["links"] = {
                name: {"operationId": _operation_id(endpoint), "parameters": parameters}
                for name, (endpoint, parameters) in op.links.items()
            }
    for status, found in _errors(rule, op, method).items():
        operation["responses"][str(status)] = _error_response(status, found)
    return operation


def _operation_id(endpoint: str) -> str:
    return endpoint.replace(".", "__")


def _tag(rule: str) -> str:
    if rule.startswith("/admin/"):
        return "admin"
    if rule.startswith("/widget/"):
        return "widget"
    if rule.startswith("/webhooks/"):
        return "webhooks"
    return "operations"


def _success(status: int, answer: Any) -> dict[str, Any]:
    if answer is None:
        description = {302: "redirect (Location)", 304: "not modified (If-None-Match)"}.get(status, "no body")
        return {"description": description}
    if isinstance(answer, list):  # one answer in several media types (a report: JSON, or CSV with format=csv)
        parts = [_success(status, one) for one in answer]
        content = {media: schema for part in parts for media, schema in part["content"].items()}
        return {"description": " or ".join(part["description"] for part in parts), "content": content}
    if isinstance(answer, tuple):
        media_type, description = answer
        return {"description": description, "content": {media_type: {"schema": {}}}}
    return {"description": "OK", "content": {"application/json": {"schema": answer}}}


def errors_of(rule: Rule, op: Op, method: str) -> dict[int, list[str]]:
    """Every error code the route can answer, by status: its own and the ones every route of its kind shares."""
    found = codes(*op.errors)
    found.append((MalformedPayload.status, MalformedPayload.code))  # a NUL (%00) in the URL, for every route
    if "<" in rule.rule:
        found.append((404, "not_found"))  # a path parameter out of bounds matches no route
    if op.auth == "admin":
        found.append((401, "unauthorized"))
    elif op.auth == "shopper":
        found.extend((401, code) for code in _TOKEN_CODES)
    if op.query is not None or op.body is not None:
        found.append((422, "validation_failed"))
    if op.body is not None:
        found.append((413, "payload_too_large"))
    if rule.rule.startswith("/widget/") and method in ("POST", "PUT", "PATCH", "DELETE"):
        found.append((403, "origin_not_allowed"))
    by_status: dict[int, list[str]] = {}
    for status, code in found:
        if code not in by_status.setdefault(status, []):
            by_status[status].append(code)
    return by_status


def _errors(rule: Rule, op: Op, method: str) -> dict[int, list[str]]:
    return dict(sorted(errors_of(rule, op, method).items()))


def _error_response(status: int, found: list[str]) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "type": "object",
        "required": ["code", "message"],
        "properties": {"code": {"type": "string", "enum": sorted(found)}, "message": {"type": "string"}},
    }
    schema = {"allOf": [{"$ref": "#/components/schemas/Error"}, {"properties": {"error": detail}}]}
    response: dict[str, Any] = {
        "description": ", ".join(sorted(found)),
        "content": {"application/json": {"schema": schema}},
    }
    if status in (429, 503):
        response["headers"] = {"Retry-After": {"schema": {"type": "string"}, "description": "seconds"}}
    return response


def _decimal_as_text(
    self: Any, field: marshmallow.fields.Field[Any], ret: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    """apispec writes a ``Decimal(as_string=True)`` as a number with ``"minimum": "0.00"`` (a string: invalid
    OpenAPI, DESIGN.md §9). It is text on the wire: say so, and keep the bounds as words. (An attribute function:
    apispec binds it to its converter, hence ``self``.)"""
    if not (isinstance(field, marshmallow.fields.Decimal) and field.as_string):
        return {}
    keys = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
    bounds = [f"{key} {ret.pop(key)}" for key in keys if key in ret]
    kind = ret.get("type")
    ret["type"] = [("string" if t == "number" else t) for t in kind] if isinstance(kind, list) else "string"
    ret["pattern"] = r"^-?[0-9]+(\.[0-9]+)?$"
    if bounds:
        ret["description"] = " ".join(filter(None, [ret.get("description"), f"(a decimal: {', '.join(bounds)})"]))
    return ret


def _query_never_null(spec: dict[str, Any]) -> dict[str, Any]:
    """A query string cannot carry null: a field that loads ``None`` by default is simply absent there."""
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "query" and isinstance(schema.get("type"), list):
                    schema["type"] = [t for t in schema["type"] if t != "null"]
                    if len(schema["type"]) == 1:
                        schema["type"] = schema["type"][0]
                    if schema.get("default", 0) is None:
                        del schema["default"]
    return spec

"""``GET /openapi.json`` is a valid OpenAPI 3.1 document that describes every API route and only error codes the
bridge has; ``GET /docs`` renders it with the vendored Redoc, loading nothing from elsewhere."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

from marshmallow import Schema, fields, validate
from openapi_spec_validator import validate as validate_spec

import bridge
from bridge.errors import BridgeError
from bridge.referrals.model import Reason
from bridge.web import errors as web_errors
from bridge.web import openapi
from bridge.web.openapi_routes import OPERATIONS
from tests.support.client import Bridge

METHODS = ("get", "post", "put", "patch", "delete")


def _document(bridge: Bridge) -> dict[str, Any]:
    response = bridge.client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document: dict[str, Any] = response.get_json()
    return document


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_the_document_is_valid_openapi_3_1_with_the_three_security_schemes(bridge: Bridge) -> None:
    document = _document(bridge)

    validate_spec(document)  # raises on the first violation of the OpenAPI 3.1 schema

    assert document["openapi"] == "3.1.0"
    schemes = document["components"]["securitySchemes"]
    assert schemes["adminKey"] == {**schemes["adminKey"], "type": "http", "scheme": "bearer"}
    assert schemes["widgetToken"]["bearerFormat"] == "JWT"
    assert schemes["webhookSignature"] == {
        **schemes["webhookSignature"],
        "in": "header",
        "name": "X-WC-Webhook-Signature",
    }
    operations = _operations(document)
    assert operations[("GET", "/admin/v1/members")]["security"] == [{"adminKey": []}]
    assert operations[("GET", "/widget/v1/panel")]["security"] == [{"widgetToken": []}]
    assert operations[("POST", "/webhooks/{platform}/{shop_id}")]["security"] == [{"webhookSignature": []}]
    assert "security" not in operations[("GET", "/widget/v1/club")]  # public: the club's offer for guests


def test_every_admin_widget_and_webhook_route_is_in_the_document(bridge: Bridge) -> None:
    documented = set(_operations(_document(bridge)))
    routes = {
        (method, re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule.rule))
        for rule in bridge.app.url_map.iter_rules()
        if rule.rule.startswith(openapi.DOCUMENTED_PREFIXES)
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }

    assert len(routes) >= 44
    assert routes - documented == set()
    assert {r.endpoint for r in bridge.app.url_map.iter_rules()} >= set(OPERATIONS)  # no entry for a lost route


def test_every_documented_error_code_is_one_the_bridge_has(bridge: Bridge) -> None:
    documented = {
        code
        for operation in _operations(_document(bridge)).values()
        for status, response in operation["responses"].items()
        if int(status) >= 400
        for code in _codes(response)
    }

    assert documented >= {"unauthorized", "member_not_found", "token_expired", "validation_failed", "invalid_signature"}
    assert documented - _codes_the_bridge_has() == set()


def test_every_error_a_view_raises_itself_is_documented_for_its_route(bridge: Bridge) -> None:
    """The codes of the exceptions a view raises in its own body (services' errors are the fuzz test's)."""
    document = _operations(_document(bridge))
    by_endpoint = {
        operation["operationId"].replace("__", "."): {
            (int(status), code) for status, response in operation["responses"].items() for code in _codes(response)
        }
        for operation in document.values()
    }
    missing, checked = [], 0
    for endpoint in OPERATIONS:
        view = inspect.unwrap(bridge.app.view_functions[endpoint])
        for error in _raised(view):
            checked += 1
            if (error.status, error.code) not in by_endpoint[endpoint]:
                missing.append(f"{endpoint}: {error.status} {error.code}")
    assert checked >= 8  # the walk does find the views' own raises (UnknownShop, MalformedPayload, UnknownMember...)
    assert missing == []


def test_every_link_leads_to_an_operation_with_the_parameters_it_fills(bridge: Bridge) -> None:
    operations = _operations(_document(bridge)).values()
    by_id = {operation["operationId"]: operation for operation in operations}
    links = [
        link
        for operation in operations
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    ]

    assert len(links) >= 20
    for link in links:
        target = by_id[link["operationId"]]
        assert set(link["parameters"]) <= {p["name"] for p in target["parameters"] if p["in"] == "path"}


def test_a_decimal_range_is_written_as_valid_openapi(bridge: Bridge) -> None:
    """apispec writes ``"minimum": "0.00"`` for a Range on ``Decimal(as_string=True)`` (DESIGN.md §9)."""

    class Price(Schema):
        amount = fields.Decimal(as_string=True, allow_none=True, validate=validate.Range(min=Decimal("0.00")))

    spec = openapi.new_spec()
    spec.components.schema("Price", schema=Price)
    document = spec.to_dict()
    amount = document["components"]["schemas"]["Price"]["properties"]["amount"]

    validate_spec({**document, "paths": {}})
    assert amount["type"] == ["string", "null"]  # text on the wire, as marshmallow dumps it
    assert "minimum" not in amount
    assert "minimum 0.00" in amount["description"]


def test_the_docs_page_renders_the_document_with_the_vendored_redoc(bridge: Bridge) -> None:
    page = bridge.client.get("/docs")

    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]  # Redoc reaches nothing but the bridge
    html = page.get_data(as_text=True)
    assert 'spec-url="/openapi.json"' in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources == ["/docs/static/vendor/redoc/redoc.standalone.js"]  # nothing from another host
    script = bridge.client.get(sources[0])
    assert script.status_code == 200
    assert script.mimetype in ("text/javascript", "application/javascript")
    assert len(script.get_data()) > 1_000_000
    script.close()
    vendored = Path(openapi.__file__).parent / "static" / "vendor" / "redoc"
    assert "MIT" in (vendored / "LICENSE").read_text()
    assert "3.0.1" in (vendored / "VENDORED.md").read_text()


# -- helpers ---------------------------------------------------------------------------------------------------------
def _codes(response: dict[str, Any]) -> list[str]:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    for part in schema.get("allOf", []):
        code = part.get("properties", {}).get("error", {}).get("properties", {}).get("code")
        if code:
            return list(code["enum"])
    return []


def _subclasses(cls: type[BridgeError]) -> list[type[BridgeError]]:
    return [cls, *(sub for direct in cls.__subclasses__() for sub in _subclasses(direct))]


def _codes_the_bridge_has() -> set[str]:
    """Exception classes' codes, the HTTP errors' codes, and codes our source writes by hand."""
    known = {error.code for error in _subclasses(BridgeError)}
    known |= set(web_errors._HTTP_CODES.values())
    known |= {f"referral_{reason}" for reason in Reason}  # ReferralRefused: the reason's code
    source = "\n".join(path.read_text() for path in Path(bridge.__file__).parent.rglob("*.py"))
    known |= set(re.findall(r'error_response\(\s*\d+,\s*"([a-z_]+)"', source))
    known |= set(re.findall(r'WidgetUnauthorized\(\s*"([a-z_]+)"', source))
    return known


def _raised(view: Any) -> list[type[BridgeError]]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(view)))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            error = _resolve(node.exc.func, view.__globals__)
            if isinstance(error, type) and issubclass(error, BridgeError) and "code" in vars(error):
                found.append(error)
    return found


def _resolve(node: ast.expr, names: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute):
        return getattr(_resolve(node.value, names), node.attr, None)
    return None

"""The app's request id: a sane ``X-Request-ID`` is kept, anything else replaced by a fresh one; answered in the
response's ``X-Request-ID`` and bound (``request_id``) while the request runs, so its log lines and the jobs it
enqueues carry it."""

from __future__ import annotations

from flask import Flask, Response, g, request

from bridge.observability import request_id

_TOKEN = "bridge_request_id_token"


def init_app(app: Flask) -> None:
    """Before any other hook: a request refused by an earlier hook (a body too large) has its id too."""

    @app.before_request
    def _bind() -> None:
        rid = request_id.sane(request.headers.get(request_id.HEADER)) or request_id.new()
        setattr(g, _TOKEN, (rid, request_id.begin(rid)))

    @app.after_request
    def _answer(response: Response) -> Response:
        bound = getattr(g, _TOKEN, None)
        if bound is not None:
            response.headers[request_id.HEADER] = bound[0]
        return response

    @app.teardown_request
    def _unbind(exc: BaseException | None) -> None:
        bound = g.pop(_TOKEN, None)
        if bound is not None:
            request_id.end(bound[1])

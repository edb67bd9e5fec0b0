"""Error handling: one JSON error body for every failure of the API, a friendly page elsewhere."""

from __future__ import annotations

import re

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES

from search.errors import QiaoError, error_body
from web.i18n import error_message, translate

JSON_PATHS = ("/healthz", "/openapi.json", "/feed")  # /feed: read by programs, which get the JSON error body
# Codes for HTTP statuses whose reason phrase is not the word a client expects.
CODES = {413: "payload_too_large", 500: "internal"}


def wants_json() -> bool:
    """Whether this request is one of the API's, which never answer with HTML."""
    return request.path == "/api" or request.path.startswith("/api/") or request.path in JSON_PATHS


def http_code(status: int) -> str:
    """A snake_case code for an HTTP status: 404 -> not_found."""
    if status in CODES:
        return CODES[status]
    return re.sub(r"\W+", "_", HTTP_STATUS_CODES.get(status, "error")).strip("_").lower()


def http_message(e: HTTPException) -> str:
    """Our own message when we raised the error, else a more specific one than werkzeug's."""
    if e.description != type(e).description:
        return e.description or ""
    if isinstance(e, NotFound):
        return f"no such endpoint: {request.path}; the API is described at /openapi.json"
    if isinstance(e, MethodNotAllowed) and e.valid_methods:
        return f"{request.method} is not allowed on {request.path}; use {', '.join(e.valid_methods)}"
    if isinstance(e, RequestEntityTooLarge):
        return f"the request body is larger than the limit of {current_app.config['MAX_CONTENT_LENGTH']} bytes"
    return e.description or ""


def handle_http(e: HTTPException) -> Response | tuple[str, int]:
    """404, 405, 413 and the rest: JSON under /api, a page elsewhere; their headers are kept."""
    status = e.code or 500
    if not wants_json():
        ours = e.description if e.description != type(e).description else ""
        return render_template("error.html", status=status, message=ours), status
    response = e.get_response()  # keeps Allow on 405 and WWW-Authenticate on 401
    response.set_data(jsonify(error_body(status, http_code(status), http_message(e))).get_data())
    response.content_type = "application/json"
    return response


def handle_qiao(e: QiaoError) -> tuple[Response | str, int]:
    """A domain error (bad parameter, no such article, no index) with its own code and status."""
    if wants_json():
        return jsonify(e.to_dict()), e.status
    return render_template("error.html", status=e.status, code=e.code, message=error_message(e)), e.status


def handle_unexpected(e: Exception) -> tuple[Response | str, int]:
    """Anything else: logged here with its traceback, a generic 500 for the client."""
    current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
    if wants_json():
        message = "an unexpected error occurred; it has been logged on the server"
        return jsonify(error_body(500, "internal", message)), 500
    return render_template("error.html", status=500, message=translate("unexpected")), 500


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(QiaoError, handle_qiao)
    app.register_error_handler(Exception, handle_unexpected)

"""The HTTP side of a request: parsing the WSGI environ, plain-text errors, the JSON envelope.

Choices where the doc is unsure:

- Parameters come from the query string for every verb; POST, PUT and DELETE also read
  the body (JSON or ``application/x-www-form-urlencoded``; without a content type a body
  starting with ``{`` is read as JSON), the body winning over the query string.
- PHP-style bracket keys (``ids[0]=1&ids[1]=7``, ``key[]=a``, ``message[id]=5``) become
  lists and objects as PHP decodes them (see :mod:`.params`); otherwise the last of
  repeated keys wins. A malformed bracket key is 400 ``Invalid request body``.
- A body that cannot be parsed (or JSON that is not an object) is 400 ``Invalid request body``.
- Error bodies are plain text (``text/plain;charset=UTF-8``), except the 401, which is
  ``text/html;charset=UTF-8`` as seen live. JSON is compact, ``application/json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from .params import decode_pairs

__all__ = ["ApiError", "Request", "Response", "json_response", "parse_request", "text_response"]

TEXT = "text/plain;charset=UTF-8"
HTML = "text/html;charset=UTF-8"
JSON = "application/json"


class ApiError(Exception):
    """An error answer: status and plain-text body."""

    def __init__(self, status: int, text: str, content_type: str = TEXT) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        self.content_type = content_type


@dataclass
class Request:
    method: str
    path: str
    target: str  # path with query, for the request log
    params: dict[str, Any]
    app_id: str
    api_key: str
    body_error: bool = False  # the body could not be parsed (answered after auth and rate limit)


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def status_line(self) -> str:
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Unknown"
        return f"{self.status} {phrase}"

    def wsgi_headers(self) -> list[tuple[str, str]]:
        return [("Content-Type", self.content_type), ("Content-Length", str(len(self.body))), *self.headers]


def text_response(status: int, text: str, content_type: str = TEXT) -> Response:
    return Response(status, text.encode("utf-8"), content_type)


def json_response(payload: Mapping[str, Any]) -> Response:
    return Response(200, json.dumps(payload, separators=(",", ":")).encode("utf-8"), JSON)


def _pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return decode_pairs(pairs)


def _body(environ: Mapping[str, Any]) -> dict[str, Any]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    raw = stream.read(length) if stream is not None and length > 0 else b""
    if not raw.strip():
        return {}
    content_type = str(environ.get("CONTENT_TYPE") or "").lower()
    try:
        text = raw.decode("utf-8")
        if "json" in content_type or (not content_type and text.lstrip().startswith("{")):
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            return data
        return _pairs(parse_qsl(text, keep_blank_values=True))
    except ValueError as exc:
        raise ApiError(400, "Invalid request body") from exc


def parse_request(environ: Mapping[str, Any]) -> Request:
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    path = str(environ.get("PATH_INFO") or "")
    query = str(environ.get("QUERY_STRING") or "")
    body_error = False
    try:
        params = _pairs(parse_qsl(query, keep_blank_values=True))
    except ValueError:
        params, body_error = {}, True
    if method in ("POST", "PUT", "DELETE"):
        try:
            params.update(_body(environ))
        except ApiError:
            body_error = True
    return Request(
        method=method,
        path=path,
        target=path + (f"?{query}" if query else ""),
        params=params,
        app_id=str(environ.get("HTTP_API_APPID", "")),
        api_key=str(environ.get("HTTP_API_KEY", "")),
        body_error=body_error,
    )

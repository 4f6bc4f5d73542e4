"""The HTTP side of a request: parsing the WSGI environ, plain-text errors, the JSON envelope.

Choices where the doc is unsure:

- Parameters come from the query string for every verb; POST, PUT and DELETE also read
  the body (JSON or ``application/x-www-form-urlencoded``; without a content type a body
  starting with ``{`` is read as JSON), the body winning over the query string.
- PHP-style bracket keys (``ids[0]=1&ids[1]=7``, ``key[]=a``, ``message[id]=5``) become
  lists and objects as PHP decodes them (see :mod:`.params`); otherwise the last of
  repeated keys wins. A malformed bracket key is 400 ``Invalid request body``.
- A body that cannot be parsed (or JSON that is not an object) is 400 ``Invalid request body``.
- Limits, as a PHP front end with its stock settings would enforce them (each a
  :class:`~ontraport_pandas.sandbox.config.SandboxConfig` field). They are answered at
  once, before authentication, like a front server would, and each is a plain-text 4xx:

  - ``Content-Length`` that is not a non-negative decimal integer: 400 ``Invalid
    Content-Length``; a body sent with ``Transfer-Encoding`` and no length: 411
    ``Length Required``;
  - a length above ``max_body`` (8 MiB, PHP's ``post_max_size``): 413 ``Request Entity
    Too Large``, without reading the body;
  - a body shorter than its length: 400 ``Incomplete request body`` when the stream ends,
    408 ``Request Timeout`` when the client stops sending (served: the socket read times
    out after ``read_timeout`` seconds, so no thread is held);
  - more than ``max_params`` parameters in the query string or a form body (1000, PHP's
    ``max_input_vars``; PHP silently drops the rest, the sandbox refuses so nothing is
    lost quietly): 400 ``Too many parameters``;
  - JSON nested deeper than ``max_depth`` (512, PHP's ``json_decode`` default): 400
    ``Invalid request body`` (answered after authentication, as any unreadable body).
- Error bodies are plain text (``text/plain;charset=UTF-8``), except the 401, which is
  ``text/html;charset=UTF-8`` as seen live. JSON is compact, ``application/json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from .params import decode_pairs

__all__ = [
    "ApiError",
    "Limits",
    "Request",
    "Response",
    "decode_json",
    "json_depth",
    "json_response",
    "parse_request",
    "text_response",
]

TEXT = "text/plain;charset=UTF-8"
HTML = "text/html;charset=UTF-8"
JSON = "application/json"


@dataclass(frozen=True)
class Limits:
    """Size, number and depth limits of one request (see the module docstring)."""

    max_body: int = 8 * 1024 * 1024
    max_params: int = 1000
    max_depth: int = 512


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
    refused: ApiError | None = None  # a protocol-level refusal, answered before anything else


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


def _parse_pairs(text: str, limits: Limits) -> dict[str, Any]:
    # parse_qsl stops with ValueError past max_num_fields, before building the whole list.
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=limits.max_params)
    except ValueError:
        raise ApiError(400, "Too many parameters") from None
    try:
        return decode_pairs(pairs)
    except ValueError:  # a malformed bracket key: never read as "no selection"
        raise ApiError(400, "Invalid request body") from None


def json_depth(data: object) -> int:
    """Nesting depth of decoded JSON (a scalar is 0, ``[]`` is 1), walked without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[object] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def decode_json(text: str, max_depth: int) -> Any:
    """``json.loads`` that answers ``ValueError`` (never ``RecursionError``) past ``max_depth``."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
    if json_depth(data) > max_depth:
        raise ValueError("JSON nested too deep")
    return data


def _content_length(environ: Mapping[str, Any], limits: Limits) -> int:
    raw = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not raw:
        if environ.get("HTTP_TRANSFER_ENCODING"):
            raise ApiError(411, "Length Required")
        return 0
    if not raw.isdigit() or not raw.isascii():
        raise ApiError(400, "Invalid Content-Length")
    if len(raw) > 20 or int(raw) > limits.max_body:
        raise ApiError(413, "Request Entity Too Large")
    return int(raw)


def _read(environ: Mapping[str, Any], length: int) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None or length == 0:
        return b""
    chunks: list[bytes] = []
    got = 0
    try:
        while got < length:
            chunk = stream.read(min(length - got, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except TimeoutError:
        raise ApiError(408, "Request Timeout") from None
    except OSError:
        raise ApiError(400, "Incomplete request body") from None
    if got < length:
        raise ApiError(400, "Incomplete request body")
    return b"".join(chunks)


def _body(raw: bytes, environ: Mapping[str, Any], limits: Limits) -> dict[str, Any]:
    if not raw.strip():
        return {}
    content_type = str(environ.get("CONTENT_TYPE") or "").lower()
    try:
        text = raw.decode("utf-8")
        if "json" in content_type or (not content_type and text.lstrip().startswith("{")):
            data = decode_json(text, limits.max_depth)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            return data
    except ValueError as exc:
        raise ApiError(400, "Invalid request body") from exc
    return _parse_pairs(text, limits)


def parse_request(environ: Mapping[str, Any], limits: Limits | None = None) -> Request:
    """The request in ``environ``; limit breaches come back in ``Request.refused``."""
    limits = limits or Limits()
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    path = str(environ.get("PATH_INFO") or "")
    query = str(environ.get("QUERY_STRING") or "")
    request = Request(
        method=method,
        path=path,
        target=path + (f"?{query}" if query else ""),
        params={},
        app_id=str(environ.get("HTTP_API_APPID", "")),
        api_key=str(environ.get("HTTP_API_KEY", "")),
    )
    try:
        request.params = _parse_pairs(query, limits)
    except ApiError as exc:
        if exc.status == 400 and exc.text == "Invalid request body":
            request.body_error = True
        else:
            request.refused = exc
            return request
    try:
        raw = _read(environ, _content_length(environ, limits))
    except ApiError as exc:
        request.refused = exc
        return request
    if method in ("POST", "PUT", "DELETE"):
        try:
            request.params.update(_body(raw, environ, limits))
        except ApiError as exc:
            if exc.status == 400 and exc.text == "Invalid request body":
                request.body_error = True
            else:
                request.refused = exc
    return request

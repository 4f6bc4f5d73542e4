"""The WSGI application: routing, authentication, rate limit, envelope, errors, faults, latency.

Order of work for one request:

0. a request the front end refuses (a bad or too large ``Content-Length``, a body shorter
   than its length, too many parameters; see :mod:`~ontraport_pandas.sandbox.wire`) is
   answered at once with its plain-text 4xx and the rate headers, counted nowhere;
1. sleep ``latency`` (no lock held, so concurrent requests overlap);
2. draw a fault (an injected one first, else with probability ``fault_rate`` from
   ``random.Random(fault_seed)``): ``drop`` raises :class:`DroppedConnection` before
   ``start_response``; ``timeout`` sleeps ``fault_sleep`` and then carries on normally;
   ``lost`` handles the request (its writes commit) and then drops the answer; ``late``
   drops the connection at once and handles the request ``fault_sleep`` seconds later in
   a background thread (a server still busy when the client gave up; :meth:`close` waits
   for it);
   ``500``/``502``/``503`` answer a plain-text error; ``429`` answers as if the limit
   were spent. Faults stand for trouble in front of the API, so they do not count
   against the rate limit;
3. authentication: both ``Api-Appid`` and ``Api-Key`` must match (header names are
   case-insensitive; WSGI upper-cases them). Otherwise 401 ``text/html`` with the
   documented body. A 401 is not counted against the window;
4. rate limit: a rolling window per App ID kept in the store, so processes sharing a
   file share it. A request over the limit gets 429 and is not counted. Every
   response except a dropped one carries ``X-Rate-Limit-Limit``, ``-Remaining`` and
   ``-Reset`` (whole seconds until the oldest counted request leaves the window, 0 when
   it is empty). With ``rate_limit=None`` the limit reads 1000000 and nothing is counted;
5. routing (case-sensitive paths under ``/1/``; an unknown path or verb is 404
   ``Not Found``) and the handler. Success is ``{"code":0,"data":…,"account_id":N}``;
   errors are plain text; an unexpected failure is 500 ``Internal Server Error``. A value
   the API cannot hold (an array or object in a scalar field, an integer parameter beyond
   64 bits) is 400, never 500.

``request_log`` records ``(method, path?query, status)`` for every request, with status
0 for a dropped connection. So that a long-running demo server does not grow without
bound, the oldest half is dropped when it passes 100,000 entries.
"""

from __future__ import annotations

import dataclasses
import hmac
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import demo
from .conditions import InvalidQuery
from .config import FAULT_KINDS, SandboxConfig
from .endpoints import ROUTES as ACTION_ROUTES
from .endpoints import SandboxApi
from .handlers import NO_DATA, Reply
from .model import TYPES, TYPES_BY_ID, ObjectType, access_matrix
from .store import RateState, Store
from .values import InvalidValue
from .wire import HTML, ApiError, Limits, Request, Response, json_response, parse_request, text_response

__all__ = ["DroppedConnection", "SandboxApp", "create_app"]

log = logging.getLogger(__name__)

UNAUTHORIZED = "Your App ID and API Key do not authenticate."
UNLIMITED = 1_000_000
LOG_LIMIT = 100_000
FAULT_BODIES = {
    "500": "Internal Server Error",
    "502": "Bad Gateway",
    "503": "Service Temporarily Unavailable",
}

StartResponse = Callable[..., Any]
# (handler name, fixed object type id or None = taken from objectID)
Route = tuple[str, "int | None"]


@dataclasses.dataclass
class _Injected:
    kind: str
    method: str | None
    path: str | None
    skip: int


class DroppedConnection(Exception):
    """Raised by the app (before ``start_response``) to simulate a dropped connection."""


def _routes() -> dict[str, dict[str, Route]]:
    routes: dict[str, dict[str, Route]] = {
        "object": {"GET": ("get_one", None), "DELETE": ("delete_one", None)},
        "objects": {
            "GET": ("collection", None),
            "POST": ("create", None),
            "PUT": ("update", None),
            "DELETE": ("delete_many", None),
        },
        "objects/saveorupdate": {"POST": ("save_or_update", None)},
        "objects/meta": {"GET": ("meta", None)},
        "objects/getInfo": {"GET": ("get_info", None)},
        "objects/tag": {"GET": ("tagged", None), "PUT": ("tag_add", None), "DELETE": ("tag_remove", None)},
        "objects/tagByName": {"PUT": ("tag_by_name_add", None), "DELETE": ("tag_by_name_remove", None)},
        "objects/sequence": {"PUT": ("sequence_add", None), "DELETE": ("sequence_remove", None)},
        "objects/subscribe": {"PUT": ("subscribe", None), "DELETE": ("unsubscribe", None)},
        "object/getByEmail": {"GET": ("get_by_email", None)},
        "message": {"POST": ("message_create", 7), "PUT": ("message_update", 7)},
    }
    for t in TYPES:
        if t.singular is None or t.plural is None:
            continue
        routes[t.singular] = {"GET": ("get_one", t.id), "DELETE": ("delete_one", t.id)}
        routes[t.plural] = {
            "GET": ("collection", t.id),
            "POST": ("create", t.id),
            "PUT": ("update", t.id),
            "DELETE": ("delete_many", t.id),
        }
        routes[f"{t.plural}/meta"] = {"GET": ("meta", t.id)}
        routes[f"{t.plural}/getInfo"] = {"GET": ("get_info", t.id)}
        if t.match_field or t.has_unique_id:
            routes[f"{t.plural}/saveorupdate"] = {"POST": ("save_or_update", t.id)}
    for path, verbs in ACTION_ROUTES.items():
        routes.setdefault(path, {}).update(verbs)
    return routes


ROUTES = _routes()


class SandboxApp:
    """The Ontraport REST API v1 simulator as a WSGI callable: ``app(environ, start_response)``.

    Build it with :func:`create_app`. Safe to call from many threads at once.
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.access = access_matrix(self.config.access)
        self.store = Store(self.config.path)
        cfg = self.config
        self.store.seed_once(
            {"seed": str(cfg.seed), "contacts": str(cfg.contacts), "demo_now": str(cfg.demo_now)},
            lambda conn: demo.generate(conn, seed=cfg.seed, contacts=cfg.contacts, demo_now=cfg.demo_now),
        )
        self.api = SandboxApi(self.store, self.config, self.access)
        self.limits = Limits(
            max_body=self.config.max_body, max_params=self.config.max_params, max_depth=self.config.max_depth
        )
        self.request_log: list[tuple[str, str, int]] = []
        self._log_lock = threading.Lock()
        self._fault_lock = threading.Lock()
        self._fault_rng = random.Random(self.config.fault_seed)
        self._injected: deque[_Injected] = deque()
        self._late: list[threading.Thread] = []

    # ------------------------------------------------------------------ public helpers

    def inject_faults(
        self,
        kind: str,
        count: int = 1,
        *,
        method: str | None = None,
        path: str | None = None,
        skip: int = 0,
    ) -> None:
        """Give the next ``count`` requests the fault ``kind`` (one of :data:`FAULT_KINDS`).

        ``method`` and ``path`` (a prefix of the path after ``/1/``, e.g. ``"Contacts"``)
        restrict the fault to matching requests; ``skip`` lets that many matching requests
        through first. Faults are drawn in the order they were injected.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {FAULT_KINDS}")
        with self._fault_lock:
            self._injected.extend(
                _Injected(kind, method.upper() if method else None, path, skip if n == 0 else 0)
                for n in range(count)
            )

    def reset_log(self) -> None:
        with self._log_lock:
            self.request_log.clear()

    def close(self) -> None:
        for thread in list(self._late):
            thread.join()
        self.store.close()

    def wait_late(self) -> None:
        """Wait until every request delayed by a ``"late"`` fault has been processed."""
        for thread in list(self._late):
            thread.join()

    def __enter__(self) -> SandboxApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.config.path or "memory"
        return f"<SandboxApp seed={self.config.seed} contacts={self.config.contacts} store={where}>"

    # ------------------------------------------------------------------ WSGI

    def __call__(self, environ: Mapping[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = parse_request(environ, self.limits)
        try:
            response = self._respond(request)
        except DroppedConnection:
            self._record(request, 0)
            log.debug("dropping %s %s", request.method, request.target)
            raise
        self._record(request, response.status)
        start_response(response.status_line, response.wsgi_headers())
        return [response.body]

    def _record(self, request: Request, status: int) -> None:
        with self._log_lock:
            self.request_log.append((request.method, request.target, status))
            if len(self.request_log) > LOG_LIMIT:
                del self.request_log[: LOG_LIMIT // 2]

    def _draw_fault(self, request: Request) -> str | None:
        with self._fault_lock:
            for n, entry in enumerate(self._injected):
                if entry.method is not None and entry.method != request.method:
                    continue
                if entry.path is not None and not request.path[3:].startswith(entry.path):
                    continue
                if entry.skip > 0:
                    entry.skip -= 1
                    break
                del self._injected[n]
                return entry.kind
            if self.config.fault_rate > 0 and self._fault_rng.random() < self.config.fault_rate:
                return self._fault_rng.choice(self.config.fault_kinds)
        return None

    def _rate(self, app_id: str, consume: bool) -> RateState:
        limit = self.config.rate_limit
        if limit is None:
            return RateState(True, UNLIMITED, UNLIMITED, 0)
        with self.store.write() as conn:
            return Store.rate(conn, app_id, self.config.clock(), limit, self.config.rate_window, consume)

    @staticmethod
    def _headers(state: RateState) -> list[tuple[str, str]]:
        return [
            ("X-Rate-Limit-Limit", str(state.limit)),
            ("X-Rate-Limit-Remaining", str(state.remaining)),
            ("X-Rate-Limit-Reset", str(state.reset)),
        ]

    def _authentic(self, request: Request) -> bool:
        app_ok = hmac.compare_digest(request.app_id.encode(), self.config.app_id.encode())
        key_ok = hmac.compare_digest(request.api_key.encode(), self.config.api_key.encode())
        return bool(request.app_id and request.api_key and app_ok and key_ok)

    def _respond(self, request: Request) -> Response:
        if request.refused is not None:
            refused = request.refused
            response = text_response(refused.status, refused.text, refused.content_type)
            response.headers = self._headers(self._rate(request.app_id, consume=False))
            return response
        if self.config.latency > 0:
            time.sleep(self.config.latency)
        fault = self._draw_fault(request)
        if fault == "drop":
            raise DroppedConnection(f"{request.method} {request.target}")
        if fault == "lost":
            self._respond_normally(request)
            raise DroppedConnection(f"{request.method} {request.target} (answer lost)")
        if fault == "late":
            thread = threading.Thread(target=self._late_request, args=(request,), daemon=True)
            self._late.append(thread)
            thread.start()
            raise DroppedConnection(f"{request.method} {request.target} (still processing)")
        if fault == "timeout":
            time.sleep(self.config.fault_sleep)
        if fault in FAULT_BODIES:
            response = text_response(int(fault), FAULT_BODIES[fault])
            response.headers = self._headers(self._rate(request.app_id, consume=False))
            return response
        if fault == "429":
            state = self._rate(request.app_id, consume=False)
            return self._too_many(dataclasses.replace(state, remaining=0, reset=max(1, state.reset)))
        return self._respond_normally(request)

    def _late_request(self, request: Request) -> None:
        time.sleep(self.config.fault_sleep)
        self._respond_normally(request)

    def _respond_normally(self, request: Request) -> Response:
        if not self._authentic(request):
            response = text_response(401, UNAUTHORIZED, HTML)
            response.headers = self._headers(self._rate(request.app_id, consume=False))
            return response
        state = self._rate(request.app_id, consume=True)
        if not state.allowed:
            return self._too_many(state)
        response = self._dispatch(request)
        response.headers = self._headers(state) + response.headers
        return response

    def _too_many(self, state: RateState) -> Response:
        limit = self.config.rate_limit or UNLIMITED
        window = self.config.rate_window
        unit = "minute" if window == 60 else f"{window:g} seconds"
        response = text_response(
            429, f"You have exceeded your maximum rate limit of {limit} requests per {unit}."
        )
        response.headers = self._headers(state)
        return response

    def _dispatch(self, request: Request) -> Response:
        if not request.path.startswith("/1/"):
            return text_response(404, "Not Found")
        route = ROUTES.get(request.path[3:], {}).get(request.method)
        if route is None:
            return text_response(404, "Not Found")
        name, type_id = route
        try:
            if request.body_error:
                raise ApiError(400, "Invalid request body")
            otype = self.api.current_type(self._object_type(request.params, type_id, optional=name == "meta"))
            reply: Reply = getattr(self.api, name)(otype, request.params)
        except InvalidQuery as exc:
            log.debug("invalid query on %s %s: %s", request.method, request.target, exc)
            return text_response(400, "Invalid query")
        except ApiError as exc:
            return text_response(exc.status, exc.text, exc.content_type)
        except InvalidValue as exc:
            return text_response(400, str(exc))
        except (OverflowError, RecursionError):
            # a number beyond SQLite's 64 bits, or a structure too deep to handle: bad input
            log.debug("refused %s %s", request.method, request.target, exc_info=True)
            return text_response(400, "Invalid query")
        except Exception:
            log.exception("sandbox failure on %s %s", request.method, request.target)
            return text_response(500, "Internal Server Error")
        payload: dict[str, Any] = {"code": 0}
        if reply.data is not NO_DATA:
            payload["data"] = reply.data
        payload["account_id"] = self.config.account_id
        payload.update(reply.extra)
        return json_response(payload)

    @staticmethod
    def _object_type(
        params: Mapping[str, Any], fixed: int | None, *, optional: bool = False
    ) -> ObjectType | None:
        if fixed is not None:
            return TYPES_BY_ID[fixed]
        raw = params.get("objectID")
        if raw in (None, ""):
            if optional:
                return None
            raise ApiError(400, "Invalid objectID")
        try:
            return TYPES_BY_ID[int(str(raw).strip())]
        except (KeyError, ValueError):
            raise ApiError(400, "Invalid objectID") from None


def create_app(config: SandboxConfig | None = None, **overrides: Any) -> SandboxApp:
    """Build a sandbox app; ``overrides`` replace fields of ``config`` (or of the defaults).

    Examples
    --------
    >>> app = create_app(contacts=50, rate_limit=None)
    >>> app.config.contacts
    50
    >>> app.close()
    """
    base = config or SandboxConfig()
    if overrides:
        base = dataclasses.replace(base, **overrides)
    return SandboxApp(base)

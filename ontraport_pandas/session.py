"""One account's session: the transport, the shared rate limiter, retries, and cached metadata.

:class:`Session` is what the orchestration layers (loader, writer, actions) talk to.
It sends a request through the transport inside the shared :class:`RateLimiter`,
waits out a 429 (the limiter holds everyone until ``X-Rate-Limit-Reset`` or an early
probe finds slots), retries reads after 5xx answers, dropped connections and timeouts
with exponential backoff within the :class:`RetryPolicy`'s budget (per request, so
each page of a load has its own), maps error answers to exceptions (through
:func:`raise_for_status`) and unwraps the JSON envelope.

Every request frees its rate-limit slot whatever happens: with the answer's headers
when there is an answer, and in the ``except BaseException`` path otherwise
(``KeyboardInterrupt``, a Membrane login error, malformed output, a bug), so a failed
first request never leaves the first-request probe open and a warm client never
leaks a slot.
It also caches the account's field metadata and the label lookups (tag names,
sequence names, automation names) that typed frames need.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import (
    APIError,
    ConfigurationError,
    ConnectionFailed,
    ProtocolError,
    RateLimitError,
    RequestTimeout,
    ServerError,
)
from .objects import DEFAULT_CATALOG, Catalog, ObjectType
from .ratelimit import RateLimiter
from .selection import check_selection
from .transports.base import HostedActions, Response, Transport, raise_for_status, rate_limit_info

__all__ = ["RetryPolicy", "Session"]

logger = logging.getLogger(__name__)

#: Which subscription fields take their labels from which object type.
SUB_MODEL_LABELS: dict[int, tuple[int, str, str]] = {
    14: (14, "tag_id", "tag_name"),
    5: (5, "id", "name"),
    140: (140, "id", "name"),
}


@dataclass(frozen=True)
class RetryPolicy:
    """How failed requests are retried.

    Every request has its own budget, so a load of many pages survives a high fault
    rate: with the defaults, a page fails only after 12 tries in a row went wrong
    (at a 40 % fault rate, about one page in 60,000: a 5,000-contact load of 100
    pages completes 998 times in 1,000, and otherwise keeps what it got in
    :class:`~ontraport_pandas.IncompleteLoadError`). The pauses stay short (0.5, 1, 2,
    then 4 s), so a server that is really down is given up on after about half a
    minute per request.

    Parameters
    ----------
    attempts : int
        Tries for a read that fails with a 5xx, a dropped connection or a timeout
        (1 = no retry).
    backoff : float
        First pause in seconds; doubles on each try, capped at ``max_backoff``.
    max_backoff : float
        The longest pause between two tries.
    max_rate_limit_waits : int
        How many 429s in a row one request may wait out before giving up.
    verify_delay : float
        Seconds a push waits, after a create whose answer was lost, before it looks
        for the record (the server may still be committing it).

    Examples
    --------
    >>> RetryPolicy.of(3).attempts  # three retries after the first try
    4
    """

    attempts: int = 12
    backoff: float = 0.5
    max_backoff: float = 4.0
    max_rate_limit_waits: int = 30
    verify_delay: float = 2.0

    def __post_init__(self) -> None:
        for name, least in (("attempts", 1), ("max_rate_limit_waits", 0)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ConfigurationError(
                    f"RetryPolicy.{name} must be a whole number >= {least}, not {value!r}"
                )
        for name in ("backoff", "max_backoff", "verify_delay"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 0:
                raise ConfigurationError(
                    f"RetryPolicy.{name} must be a number of seconds >= 0, not {value!r}"
                )

    @classmethod
    def of(cls, retries: int | RetryPolicy | None) -> RetryPolicy:
        """The policy for ``connect(retries=…)``: a policy as is, a number of retries, or None for the default."""
        if retries is None:
            return cls()
        if isinstance(retries, RetryPolicy):
            return retries
        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            raise ConfigurationError(
                f"retries= takes a number of retries (0 or more) or a RetryPolicy, not {retries!r}"
            )
        return cls(attempts=retries + 1)

    def pause(self, attempt: int) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        return float(min(self.max_backoff, self.backoff * (2 ** min(attempt - 1, 30))))


class Session:
    """Send requests for one account and cache its metadata."""

    def __init__(
        self,
        transport: Transport,
        *,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        max_workers: int = 8,
        sleep: Any = time.sleep,
    ) -> None:
        self.transport = transport
        self.retry = retry or RetryPolicy()
        self.limiter = limiter or RateLimiter()
        self.max_workers = max_workers
        self._sleep = sleep
        self._lock = threading.RLock()
        self._meta: dict[str, Any] | None = None
        self._schemas: dict[int, Any] = {}
        self._lookups: dict[int, dict[str, dict[str, str]]] = {}
        self.catalog: Catalog = DEFAULT_CATALOG
        self.requests_sent = 0
        #: How many of the requests sent were answered 429 (and sent again): counted apart
        #: from ``requests_sent`` so figures can tell wasted requests from useful ones.
        self.rate_limited = 0
        #: The ``account_id`` of the last JSON envelope (None until one was read).
        self.account_id: Any = None

    @property
    def hosted(self) -> HostedActions | None:
        """The backend's hosted actions (Membrane), or None when it writes through REST only."""
        hosted = getattr(self.transport, "hosted", None)
        return hosted if isinstance(hosted, HostedActions) else None

    @property
    def backend(self) -> str:
        """Which route carries requests, in words (``op.backend``)."""
        return str(getattr(self.transport, "backend", None) or self.transport.name)

    # -- sending -----------------------------------------------------------------
    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        retry: bool | None = None,
        all_records: bool = False,
    ) -> Response:
        """Send one request with rate limiting and retries; raise on error statuses.

        Parameters
        ----------
        retry : bool, optional
            Retry 5xx answers, dropped connections and timeouts. Defaults to True for
            GET and False for writes (a write may have been applied before the failure).
            A 429 is always waited out and retried: the API did not process it.
        all_records : bool
            Allow a collection ``DELETE`` or a bulk action that names no records (the
            API reads it as every record). Without it such a request raises
            :class:`~ontraport_pandas.errors.EmptySelectionError` before it is sent.
        """
        method = method.upper()
        check_selection(method, path, params, json, all_records=all_records)
        if retry is None:
            retry = method == "GET"
        str_params = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        attempt = 0
        limited = 0
        while True:
            attempt += 1
            ticket = self.limiter.acquire()
            try:
                with self._lock:
                    self.requests_sent += 1
                response = self.transport.send(method, path, params=str_params, json=json)
            except BaseException as exc:
                # No answer: free the slot (and end the probe) whatever went wrong, a
                # KeyboardInterrupt, a Membrane login error or malformed output included.
                self.limiter.release(ticket)
                if (
                    isinstance(exc, (ConnectionFailed, RequestTimeout))
                    and retry
                    and attempt < self.retry.attempts
                ):
                    pause = self.retry.pause(attempt)
                    logger.info("%s %s failed (%s); retry %d in %.1fs", method, path, exc, attempt, pause)
                    self._sleep(pause)
                    continue
                raise
            info = None
            try:
                info = rate_limit_info(response.headers)
            finally:
                self.limiter.update(info, ticket)
            try:
                return raise_for_status(response, method=method, path=path)
            except RateLimitError as exc:
                limited += 1
                attempt -= 1
                with self._lock:
                    self.rate_limited += 1
                self.limiter.penalize(exc.reset_after, ticket)
                if limited > self.retry.max_rate_limit_waits:
                    raise
                logger.info("%s %s: rate limit spent; waiting %.1fs", method, path, exc.reset_after)
                continue
            except ServerError as exc:
                if retry and attempt < self.retry.attempts:
                    pause = self.retry.pause(attempt)
                    logger.info("%s %s -> %s; retry %d in %.1fs", method, path, exc.status, attempt, pause)
                    self._sleep(pause)
                    continue
                raise

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        retry: bool | None = None,
        all_records: bool = False,
    ) -> dict[str, Any]:
        """Send a request and return the decoded JSON envelope (``code``, ``data``, …)."""
        response = self.send(method, path, params=params, json=json, retry=retry, all_records=all_records)
        body = response.json()
        if not isinstance(body, dict):
            raise ProtocolError(
                f"{method} {path}: expected the JSON envelope, got {type(body).__name__}",
                method=method,
                path=path,
            )
        if body.get("account_id") is not None:
            self.account_id = body["account_id"]
        code = body.get("code", 0)
        if code not in (0, "0"):
            raise APIError(
                f"{method} {path}: the API answered code {code!r}: {str(body)[:300]}",
                status=response.status,
                body=response.text,
                method=method,
                path=path,
            )
        return body

    def data(self, method: str, path: str, **kwargs: Any) -> Any:
        """The ``data`` member of the envelope."""
        return self.call(method, path, **kwargs).get("data")

    # -- metadata ------------------------------------------------------------------
    def meta(self, *, refresh: bool = False) -> dict[str, Any]:
        """The account's ``objects/meta`` (every type, custom objects included), cached."""
        with self._lock:
            if self._meta is None or refresh:
                data = self.data("GET", "objects/meta", params={"format": "byId"})
                if not isinstance(data, dict):
                    raise ProtocolError("objects/meta: expected an object keyed by type id")
                self._meta = data
                self._schemas.clear()
                self.catalog = DEFAULT_CATALOG.with_custom(data)
            return self._meta

    def resolve(self, obj: ObjectType | str | int) -> ObjectType:
        """Resolve an object type name; custom objects need the account's metadata."""
        try:
            return self.catalog.resolve(obj)
        except KeyError:
            if self._meta is None:
                self.meta()
                return self.catalog.resolve(obj)
            raise

    def schema(self, obj: ObjectType | str | int) -> Any:
        """The :class:`~ontraport_pandas.schema.ObjectSchema` of a type."""
        from .errors import SchemaError
        from .schema import parse_meta

        otype = self.resolve(obj)
        with self._lock:
            if otype.id not in self._schemas:
                meta = self.meta()
                entry = meta.get(str(otype.id))
                if entry is None:
                    path, params = otype.sub_route("meta")
                    data = self.data("GET", path, params=params)
                    entry = (data or {}).get(str(otype.id)) if isinstance(data, dict) else None
                    if entry is None:
                        raise SchemaError(f"The account has no field metadata for {otype.name} ({otype.id}).")
                self._schemas.update(parse_meta({str(otype.id): entry}))
            return self._schemas[otype.id]

    def lookups(self, obj: ObjectType | str | int, *, refresh: bool = False) -> dict[str, dict[str, str]]:
        """Labels for the subscription fields of a type: ``{field: {id: label}}`` (tag names, …)."""
        otype = self.resolve(obj)
        with self._lock:
            if otype.id in self._lookups and not refresh:
                return self._lookups[otype.id]
        schema = self.schema(otype)
        result: dict[str, dict[str, str]] = {}
        for key, spec in schema.fields.items():
            if spec.type != "subscription" or spec.sub_model not in SUB_MODEL_LABELS:
                continue
            type_id, id_field, label_field = SUB_MODEL_LABELS[spec.sub_model]
            condition = None
            if type_id == 14:
                tags_of = otype.id if spec.tag_object_type is None else spec.tag_object_type
                condition = [
                    {"field": {"field": "object_type_id"}, "op": "=", "value": {"value": str(tags_of)}}
                ]
            result[key] = self._labels(type_id, id_field, label_field, condition)
        with self._lock:
            self._lookups[otype.id] = result
        return result

    def forget_lookups(self) -> None:
        """Drop cached labels (after tags were created)."""
        with self._lock:
            self._lookups.clear()

    def _labels(self, type_id: int, id_field: str, label_field: str, condition: Any) -> dict[str, str]:
        import json as _json

        otype = self.catalog.resolve(type_id)
        path, params = otype.route()
        labels: dict[str, str] = {}
        start = 0
        while True:
            page_params: dict[str, Any] = {
                **params,
                "start": start,
                "range": 50,
                "sort": id_field,
                "sortDir": "asc",
                "listFields": f"{id_field},{label_field}"
                if id_field == "id"
                else f"id,{id_field},{label_field}",
            }
            if condition:
                page_params["condition"] = _json.dumps(condition)
            rows = self.data("GET", path, params=page_params) or []
            for row in rows:
                rid = row.get(id_field, row.get("id"))
                if rid is not None:
                    labels[str(rid)] = str(row.get(label_field) or rid)
            if len(rows) < 50:
                return labels
            start += 50

    def close(self) -> None:
        self.transport.close()


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)

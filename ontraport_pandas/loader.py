"""Loading every record of an object type into a typed DataFrame, as fast as the API allows.

The recipe (ontraport-api.md §7):

1. resolve the type and its field metadata (cached per session); compile ``where=``
   into Ontraport's ``condition`` JSON (unknown columns and expressions that cannot be
   pushed down exactly fail here, before any data request);
2. ask ``getInfo`` for the count;
3. fetch the pages (``start`` in steps of 50, ``range=50``) concurrently, every
   request inside the session's shared rate limiter, with reads retried: each page
   has the session's whole retry budget. A page that still fails does not throw the
   others away: the pages not yet started are cancelled and
   :class:`~ontraport_pandas.errors.IncompleteLoadError` carries the rows that arrived
   (typed, in ``err.partial``) and how many are missing;
4. check completeness: when the rows fetched differ from the count (records added
   or deleted during the load) reconcile by id — list the current ids, fetch the
   missing records, drop the deleted ones — and warn with the numbers if that still
   does not add up;
5. type the rows through :mod:`ontraport_pandas.schema` and apply the expression's
   exact pandas mask (the server may compare text case-insensitively, so the
   pushed-down condition selects a superset). A single-condition load types its pages
   in batches as they arrive, while it waits for the next ones (:class:`TypedPages`
   over a :class:`~ontraport_pandas.schema.FrameBuilder`), and lets their raw records
   go, so the frame is ready soon after the last page and the raw records never pile
   up; the frame equals the one typing every record at once gives.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import CancelledError, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from .errors import (
    ConnectionFailed,
    IncompleteLoadError,
    IncompleteLoadWarning,
    ProtocolError,
    QueryError,
    RequestTimeout,
    SchemaError,
    ServerError,
    TransportError,
)
from .eta import Estimate, estimate
from .objects import ObjectType
from .progress import Progress, make_progress
from .query import MAX_CONDITION_CHARS, CompiledWhere, compile_where, split_condition
from .related import is_extern, resolve_externs
from .schema import FrameBuilder, frame_from_records, frame_to_records
from .session import Session

__all__ = [
    "LoadStats",
    "PAGE_SIZE",
    "Refresher",
    "count_frame",
    "estimate_load",
    "load_frame",
    "load_records",
]

logger = logging.getLogger(__name__)

#: Ontraport returns at most 50 records per request.
PAGE_SIZE = 50


@dataclass
class LoadStats:
    """Figures of one load, kept in ``df.attrs["ontraport"]["stats"]``."""

    count: int = 0
    rows: int = 0
    pages: int = 0
    requests: int = 0
    seconds: float = 0.0
    rate_limit_wait: float = 0.0
    reconciled: bool = False


def _query_params(
    otype: ObjectType,
    *,
    condition: list[Any] | None,
    search: str | None,
    ids: Sequence[int] | None = None,
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if condition:
        params["condition"] = json.dumps(condition, separators=(",", ":"))
    if search:
        params["search"] = search
    if ids is not None:
        params["ids"] = ",".join(str(i) for i in ids)
    return params


def count_records(
    session: Session, otype: ObjectType, *, condition: list[Any] | None = None, search: str | None = None
) -> int:
    """The number of records matching a condition, from ``getInfo``."""
    path, base = otype.sub_route("getInfo")
    data = session.data(
        "GET", path, params={**base, **_query_params(otype, condition=condition, search=search)}
    )
    if not isinstance(data, dict) or "count" not in data:
        raise ProtocolError(f"{path}: expected an object with 'count', got {str(data)[:200]}")
    try:
        return int(data["count"])
    except (TypeError, ValueError) as exc:
        raise ProtocolError(f"{path}: count is not a number: {data['count']!r}") from exc


def _row_id(row: dict[str, Any], id_field: str) -> str | None:
    value = row.get(id_field, row.get("id"))
    return None if value is None else str(value)


def _unseen(rows: list[dict[str, Any]], id_field: str, seen: set[str]) -> list[dict[str, Any]]:
    """The rows whose id is not in ``seen`` yet (and not missing), which are then added to it."""
    fresh = []
    for row in rows:
        rid = _row_id(row, id_field)
        if rid is None or rid in seen:
            continue
        seen.add(rid)
        fresh.append(row)
    return fresh


def load_records(
    session: Session,
    otype: ObjectType,
    *,
    condition: list[Any] | None = None,
    search: str | None = None,
    list_fields: Iterable[str] | None = None,
    sort: str | None = None,
    descending: bool = False,
    limit: int | None = None,
    progress: bool | None = None,
    stats: LoadStats | None = None,
    reconcile: bool = True,
    externs: Sequence[str] | None = None,
    sink: TypedPages | None = None,
) -> list[dict[str, Any]]:
    """Fetch every matching record as wire dicts (values as the API sent them).

    Pages are fetched concurrently; the result keeps the server's order (``sort``,
    or ascending id). Completeness is checked against the count.

    With ``sink`` (a :class:`TypedPages`) the rows go to the sink page by page as they
    arrive, each id once, and are not kept: the result is empty and the sink's frame
    holds the load (reconciled by id like the records would be).
    """
    stats = stats if stats is not None else LoadStats()
    started = time.perf_counter()
    waited0 = session.limiter.wall_waited
    sent0 = session.requests_sent
    path, base = otype.route()
    filters = _query_params(otype, condition=condition, search=search)
    id_field = otype.id_field
    fields = list(dict.fromkeys(list_fields)) if list_fields is not None else None
    if fields is not None and id_field not in fields:
        fields.insert(0, id_field)
    sort_field = sort or id_field
    page_params: dict[str, Any] = {
        **base,
        **filters,
        "sort": sort_field,
        "sortDir": "desc" if descending else "asc",
    }
    if fields is not None:
        page_params["listFields"] = ",".join(fields)
    if externs:
        page_params["externs"] = ",".join(externs)

    count = count_records(session, otype, condition=condition, search=search)
    stats.count = count
    wanted = count if limit is None else min(count, limit)
    starts = list(range(0, wanted, PAGE_SIZE))
    # the description says up front what the load costs: "contacts (≈ 40 requests, under a minute (2,000 rows))"
    ahead = estimate(len(starts), session.limiter, workers=max(1, session.max_workers), rows=wanted)
    label = f"{otype.name} ({ahead})"
    bar: Progress = make_progress(len(starts), label, enabled=progress)
    if progress is not False:
        session.limiter.on_wait = lambda s: bar.note(f"{otype.name}: rate limit, waiting {s:.0f}s")

    def fetch(start: int) -> list[dict[str, Any]]:
        rows = session.data("GET", path, params={**page_params, "start": start, "range": PAGE_SIZE})
        if rows is None:
            rows = []
        if not isinstance(rows, list):
            raise ProtocolError(f"GET {path}: expected a list of records, got {type(rows).__name__}")
        return rows

    rows_seen = 0
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    kept = 0

    def on_page(rows: list[dict[str, Any]]) -> None:
        nonlocal rows_seen, kept
        rows_seen += len(rows)
        bar.note(label)
        bar.update(1, rows=rows_seen)
        fresh = _unseen(rows, id_field, seen)
        kept += len(fresh)
        if sink is None:
            records.extend(fresh)
        else:
            sink.add(fresh)

    try:
        _, failures = fetch_pages(
            session, starts, fetch, on_page, keep=False, on_idle=None if sink is None else sink.idle
        )
    finally:
        session.limiter.on_wait = None
        bar.close()

    if failures:
        stats.rows = kept
        stats.pages = len(starts) - len(failures)
        stats.requests = session.requests_sent - sent0
        stats.seconds = time.perf_counter() - started
        stats.rate_limit_wait = session.limiter.wall_waited - waited0
        raise _incomplete(otype, path, records, wanted, failures, session, rows=kept)
    if reconcile and limit is None and kept != count:
        try:
            if sink is None:
                records = _reconcile(session, otype, records, page_params, fields, filters, stats)
                kept = len(records)
            else:
                kept = _reconcile_typed(session, otype, sink, seen, page_params, filters, stats)
        except TransportError as exc:
            stats.rows = kept
            raise _incomplete(
                otype, path, records, wanted, [(-1, exc)], session, reconciling=True, rows=kept
            ) from exc
    elif limit is not None:
        records = records[:limit]
        kept = min(kept, limit)

    stats.rows = kept
    stats.pages = len(starts)
    stats.requests = session.requests_sent - sent0
    stats.seconds = time.perf_counter() - started
    stats.rate_limit_wait = session.limiter.wall_waited - waited0
    return records


class TypedPages:
    """Types a load's pages in batches as they arrive and lets their raw records go.

    A load hands each page's new rows (:meth:`add`); while the next page is still on its way
    (:meth:`idle`, from :func:`fetch_pages`) the rows held so far are typed into a piece of the
    frame (:class:`~ontraport_pandas.schema.FrameBuilder`), so that a rate-limited load, which
    waits on the wire most of the time, has typed nearly every row when its last page arrives
    and never holds every raw record at once. When pages arrive faster than they are typed, up
    to ``max_batch`` rows wait for one larger batch (fewer, cheaper pieces).
    :meth:`frame` types the rest and joins the pieces: the same frame as typing every record at
    once.
    """

    #: fewest rows typed while waiting for a page (smaller batches cost more per row)
    min_batch = 200
    #: most rows held untyped when pages arrive faster than they are typed
    max_batch = 5000

    def __init__(self, builder: Any) -> None:
        self.builder = builder
        self._buffer: list[dict[str, Any]] = []
        self.dropped: set[str] = set()
        #: ``"asc"`` or ``"desc"`` when reconciling put rows out of the load's id order
        self.sort_by_id: str | None = None

    def add(self, rows: list[dict[str, Any]]) -> None:
        self._buffer.extend(rows)
        if len(self._buffer) >= self.max_batch:
            self.flush()

    def idle(self) -> None:
        if len(self._buffer) >= self.min_batch:
            self.flush()
            self.builder.merge_tail()  # joined while waiting, so that little is left after the last page

    def flush(self) -> None:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self.builder.add(batch)

    def frame(self) -> pd.DataFrame:
        """Every row added, typed, in order (without the ids reconciling dropped)."""
        self.flush()
        frame = self.builder.frame()
        if self.dropped:
            gone = {int(i) for i in self.dropped if i.lstrip("-").isdigit()}
            frame = frame.loc[~frame.index.isin(list(gone))]
        if self.sort_by_id:
            frame = frame.sort_index(ascending=self.sort_by_id == "asc", kind="stable")
        return frame


def fetch_pages(
    session: Session,
    starts: Sequence[int],
    fetch: Callable[[int], list[Any]],
    on_page: Callable[[list[Any]], None] | None = None,
    *,
    keep: bool = True,
    on_idle: Callable[[], None] | None = None,
) -> tuple[list[list[Any]], list[tuple[int, BaseException]]]:
    """Fetch pages concurrently, in order; keep what arrived when some fail.

    Each page has the session's whole retry budget (its requests are retried one by
    one). A page that still fails is recorded with its error and the pages not yet
    started are cancelled (the server is in trouble: no point queueing more), while
    those already in flight finish. An interrupt (``KeyboardInterrupt``) cancels every
    page not yet started and returns control at once instead of draining the queue.

    ``on_page`` sees each page in order as soon as it and the pages before it have
    arrived; with ``keep=False`` the pages are not kept (nor held by their futures) once
    ``on_page`` has seen them. ``on_idle`` is called whenever the next page has not
    arrived yet: work done there is hidden behind the wire.

    Returns
    -------
    pages, failures
        The pages that arrived (in ``starts`` order; empty with ``keep=False``) and
        ``(start, error)`` of those that did not.
    """
    pages: list[list[Any]] = []
    failures: list[tuple[int, BaseException]] = []
    pool = ThreadPoolExecutor(max_workers=max(1, session.max_workers))
    stop = threading.Event()  # set by a page that raised what is not a transport failure (an interrupt)

    def guarded(start: int) -> Any:
        """A page, unless an earlier one was interrupted: a worker goes on to the next queued page
        after an exception, so it must see for itself that the load is over."""
        if stop.is_set():
            raise CancelledError()
        try:
            return fetch(start)
        except TransportError:
            raise
        except BaseException:
            stop.set()
            raise

    try:
        pending = deque((start, pool.submit(guarded, start)) for start in starts)
        while pending:
            start, future = pending.popleft()  # consumed futures are let go with their pages
            if future.cancelled():
                failures.append((start, CancelledError()))
                continue
            if on_idle is not None and not future.done():
                on_idle()
            try:
                rows = future.result()
            except CancelledError as exc:
                failures.append((start, exc))
                continue
            except TransportError as exc:
                if not failures:
                    for _, waiting in pending:
                        waiting.cancel()
                failures.append((start, exc))
                continue
            del future
            if keep:
                pages.append(rows)
            if on_page is not None:
                on_page(rows)
            del rows
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return pages, failures


def _incomplete(
    otype: ObjectType,
    path: str,
    records: list[dict[str, Any]],
    wanted: int,
    failures: list[tuple[int, BaseException]],
    session: Session,
    *,
    reconciling: bool = False,
    rows: int | None = None,
) -> IncompleteLoadError:
    first = next((e for _, e in failures if not isinstance(e, CancelledError)), failures[0][1])
    loaded = len(records) if rows is None else rows
    missing = max(0, wanted - loaded)
    given_up = sum(1 for _, e in failures if not isinstance(e, CancelledError))
    cancelled = len(failures) - given_up
    # Only these are retried; a refusal (401, 403, 400 …) fails on its first answer.
    retried = isinstance(first, (ConnectionFailed, RequestTimeout, ServerError))
    tries = f" after {session.retry.attempts} tries" if retried else ""
    if reconciling:
        why = (
            "the rows differed from the count (records added or deleted meanwhile) and reconciling "
            f"by id failed{tries}"
        )
    else:
        why = f"{given_up} page(s) failed{tries + ' each' if retried else ''}" + (
            f" and {cancelled} were not tried after that" if cancelled else ""
        )
    message = (
        f"{otype.name}: loaded {loaded:,} of {wanted:,} records; {missing:,} are missing: {why} "
        f"(first: {first}). The rows loaded are in err.partial; "
        + (
            "try again later, or raise the budget with opd.connect(..., retries=…)."
            if retried
            else "the API refused the request, so trying again will not help until that is fixed."
        )
    )
    error = IncompleteLoadError(
        message,
        records=records,
        expected=wanted,
        missing=missing,
        failures=failures,
        method="GET",
        path=path,
    )
    error.__cause__ = first
    return error


def _descending(page_params: Mapping[str, Any]) -> bool:
    return str(page_params.get("sortDir", "asc")).lower() == "desc"


def _reconcile(
    session: Session,
    otype: ObjectType,
    records: list[dict[str, Any]],
    page_params: dict[str, Any],
    fields: list[str] | None,
    filters: dict[str, Any],
    stats: LoadStats,
) -> list[dict[str, Any]]:
    """Make ``records`` match the current set of ids: fetch the missing, drop the deleted."""
    id_field = otype.id_field
    path, _ = otype.route()
    fetched = len(records)
    expected = stats.count
    current = list_ids(session, otype, condition_params=filters)
    current_set = set(current)
    by_id = {_row_id(r, id_field): r for r in records}
    for rows in _missing_pages(session, path, page_params, [i for i in current if i not in by_id]):
        for row in rows:
            by_id[_row_id(row, id_field)] = row
    order = {rid: n for n, rid in enumerate(current)}
    result = [r for rid, r in by_id.items() if rid in current_set]
    if page_params.get("sort") == id_field:  # in the load's own direction
        result.sort(key=lambda r: order.get(_row_id(r, id_field) or "", 0), reverse=_descending(page_params))
    stats.reconciled = True
    stats.count = len(current)
    _report_reconcile(otype, expected, fetched, len(result), len(current))
    return result


def _missing_pages(
    session: Session, path: str, page_params: dict[str, Any], missing: list[str]
) -> Iterator[list[dict[str, Any]]]:
    """The records of the ``missing`` ids, a page of ids at a time (same fields and options as the load)."""
    for chunk_start in range(0, len(missing), PAGE_SIZE):
        chunk = missing[chunk_start : chunk_start + PAGE_SIZE]
        params = {k: v for k, v in page_params.items() if k not in ("condition", "search")}
        params.update({"ids": ",".join(chunk), "start": 0, "range": PAGE_SIZE})
        yield session.data("GET", path, params=params) or []


def _report_reconcile(otype: ObjectType, expected: int, fetched: int, kept: int, current: int) -> None:
    """Warn when reconciling by id still left records out; otherwise say at info level that it ran."""
    if kept != current:
        warnings.warn(
            f"{otype.name}: the API reported {expected} records, {fetched} were fetched, and after "
            f"reconciling by id {kept} of the {current} current ids were loaded.",
            IncompleteLoadWarning,
            stacklevel=5,
        )
    else:
        logger.info(
            "%s: count was %d but %d rows came back; reconciled by id to %d",
            otype.name,
            expected,
            fetched,
            kept,
        )


def _reconcile_typed(
    session: Session,
    otype: ObjectType,
    sink: TypedPages,
    seen: set[str],
    page_params: dict[str, Any],
    filters: dict[str, Any],
    stats: LoadStats,
) -> int:
    """:func:`_reconcile` for a load typed as it arrives: the missing records go to the sink, the
    deleted ids are dropped from its frame, which is put in id order when the load was. Returns
    the number of rows the frame will hold."""
    id_field = otype.id_field
    path, _ = otype.route()
    fetched = len(seen)
    expected = stats.count
    current = list_ids(session, otype, condition_params=filters)
    current_set = set(current)
    for rows in _missing_pages(session, path, page_params, [i for i in current if i not in seen]):
        sink.add(_unseen(rows, id_field, seen))
    sink.dropped = seen - current_set
    kept = len(seen) - len(sink.dropped)
    if page_params.get("sort") == id_field:
        sink.sort_by_id = "desc" if _descending(page_params) else "asc"
    stats.reconciled = True
    stats.count = len(current)
    _report_reconcile(otype, expected, fetched, kept, len(current))
    return kept


def list_ids(
    session: Session, otype: ObjectType, *, condition_params: dict[str, Any] | None = None
) -> list[str]:
    """Every current id of a type (matching the filters), in ascending order."""
    path, base = otype.route()
    params = {
        **base,
        **(condition_params or {}),
        "listFields": otype.id_field,
        "sort": otype.id_field,
        "sortDir": "asc",
    }
    total = count_records(
        session,
        otype,
        condition=json.loads(condition_params["condition"])
        if condition_params and "condition" in condition_params
        else None,
        search=(condition_params or {}).get("search"),
    )

    def fetch(start: int) -> list[str]:
        rows = session.data("GET", path, params={**params, "start": start, "range": PAGE_SIZE}) or []
        return [rid for rid in (_row_id(r, otype.id_field) for r in rows) if rid is not None]

    # One page more than the count, in case records were added since.
    starts = range(0, total + PAGE_SIZE, PAGE_SIZE)
    pages, failures = fetch_pages(session, list(starts), fetch)
    if failures:
        raise next((e for _, e in failures if not isinstance(e, CancelledError)), failures[0][1])
    ids = [rid for page in pages for rid in page]
    return sorted(set(ids), key=lambda s: (len(s), s))


SortSpec = str | Sequence[str] | None


def _sort_keys(sort: SortSpec, schema: Any, id_field: str) -> list[tuple[str, bool]]:
    """``sort=`` as (column, ascending) pairs; the record id is ``id_field``. Checked before any I/O."""
    if sort is None:
        return []
    keys = [sort] if isinstance(sort, str) else sort
    if not isinstance(keys, Sequence) or not keys:
        raise QueryError(f'sort= takes a column or a list of columns ("-date" descending), not {sort!r}')
    out: list[tuple[str, bool]] = []
    for key in keys:
        if not isinstance(key, str) or not key.lstrip("-+"):
            raise QueryError(f"sort=: {key!r} is not a column name")
        name = key.lstrip("-+")
        if name in (id_field, "id", "index"):
            name = id_field
        else:
            spec = schema.field(name)  # raises UnknownFieldError naming the column
            if len(keys) > 1 and spec.kind in ("list", "subscription"):
                raise QueryError(
                    f"sort=: {name} holds lists, which pandas cannot order; sort by it alone (the server "
                    "orders its stored text) or sort the frame yourself"
                )
        if any(name == k for k, _ in out):
            raise QueryError(f"sort=: {name} is given twice")
        out.append((name, not key.startswith("-")))
    return out


def _sort_frame(frame: pd.DataFrame, keys: list[tuple[str, bool]], id_field: str) -> pd.DataFrame:
    """``frame.sort_values(keys, kind="stable", na_position="last")`` on the rows in ascending id order:
    ties are in ascending id order, whatever order the server sent them in."""
    if not keys or frame.empty:
        return frame
    frame = frame.sort_index(kind="stable")
    by = [frame.index.to_series() if k == id_field else frame[k] for k, _ in keys]
    # keep the dtypes (a categorical sorts in its categories' order, as in pandas)
    order = pd.DataFrame({n: s.reset_index(drop=True) for n, s in enumerate(by)})
    positions = order.sort_values(
        list(range(len(keys))), ascending=[a for _, a in keys], kind="stable", na_position="last"
    ).index.to_numpy()
    return frame.iloc[positions]


class Refresher(Protocol):
    """What :func:`load_frame` asks of ``cache=``: the current typed frame of a whole type.

    :class:`~ontraport_pandas.cache.RecordCache` is one (it builds on this module's paging, so the
    loader takes it as an argument rather than importing it).
    """

    def refresh_frame(
        self,
        session: Session,
        otype: ObjectType,
        *,
        schema: Any,
        lookups: Mapping[str, Mapping[str, str]],
        progress: bool | None = None,
        stats: LoadStats | None = None,
    ) -> pd.DataFrame: ...


def load_frame(
    session: Session,
    obj: ObjectType | str | int,
    *,
    where: str | None = None,
    fields: Sequence[str] | None = None,
    search: str | None = None,
    sort: SortSpec = None,
    limit: int | None = None,
    progress: bool | None = None,
    stats: LoadStats | None = None,
    cache: Refresher | None = None,
    params: Mapping[str, Any] | None = None,
    namespace: Mapping[str, Any] | None = None,
    max_condition_chars: int | None = None,
    externs: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Load a typed frame; see :meth:`ontraport_pandas.Ontraport.frame` for the options.

    With ``cache`` (a :class:`Refresher`, in practice :class:`~ontraport_pandas.cache.RecordCache`)
    the whole type is refreshed incrementally and ``where``, ``fields``, ``sort`` and ``limit`` are applied
    to the refreshed frame, so the result equals a full load's.

    ``where`` is pushed down as far as the API can evaluate it (a superset of the rows
    where it cannot: text compared case-insensitively, ``!=`` on text, regular
    expressions, ``case=False``, …) and finished with the expression's exact pandas mask.
    A condition too long for one request is sent as several, merged by id. With several
    ``sort`` keys the server sorts by the first and pandas by all of them (stable); with
    ``limit`` every matching row is then loaded, so the first rows are exact.
    """

    otype = session.resolve(obj)
    if cache is not None and search is not None:
        raise ValueError("search= is evaluated by the server and cannot be combined with cache=True")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise ValueError(f"limit must be a non-negative integer, not {limit!r}")
    if params is not None and not where:
        raise QueryError("params= gives values for @names in where=; there is no where=")
    schema = session.schema(otype)
    if isinstance(fields, str):
        fields = [fields]
    if isinstance(externs, str):
        externs = [externs]
    paths = list(dict.fromkeys([*(externs or []), *(f for f in fields or [] if is_extern(f))]))
    extern_lookups: dict[str, Any] = {}
    if paths:
        if cache is not None:
            raise ValueError("externs (related-record columns) cannot be combined with cache=True")
        schema, extern_lookups = resolve_externs(session, otype, schema, paths)
    if fields is not None:
        for f in fields:
            if f not in (otype.id_field, "id"):
                schema.field(f)  # raises UnknownFieldError naming the column
    keys = _sort_keys(sort, schema, otype.id_field)
    sort_key, descending = (keys[0][0], not keys[0][1]) if keys else (None, False)
    lookups = session.lookups(otype) if cache is not None or _needs_lookups(schema, fields, where) else {}
    compiled = _compile(otype, schema, lookups, where, params, namespace) if where else None
    stats = stats if stats is not None else LoadStats()
    if cache is not None:
        try:
            frame = cache.refresh_frame(
                session, otype, schema=schema, lookups=lookups, progress=progress, stats=stats
            )
        except IncompleteLoadError as exc:
            # The cache is left as it was; the partial frame holds the records this refresh got.
            exc.partial = frame_from_records(exc.records, schema, id_field=otype.id_field, lookups=lookups)
            raise
        if compiled is not None:
            frame = frame.loc[compiled.mask(frame).to_numpy(dtype=bool)]
        if keys and keys != [(otype.id_field, True)]:
            frame = _sort_frame(frame, keys, otype.id_field)
        if fields is not None:
            frame = frame[[c for c in dict.fromkeys(fields) if c not in (otype.id_field, "id")]]
        return frame if limit is None else frame.iloc[:limit]

    conditions: list[list[Any]] = [compiled.condition] if compiled is not None else [[]]
    if compiled is not None:
        conditions, _ = split_condition(compiled.condition, max_condition_chars or MAX_CONDITION_CHARS)
    finish_sort = len(keys) > 1 or (len(conditions) > 1 and bool(keys))
    list_fields: list[str] | None = None
    if fields is not None:
        list_fields = [otype.id_field, *(f for f in fields if not is_extern(f))]
        if compiled is not None:
            list_fields += sorted(c for c in compiled.columns if c != "id")
        list_fields += [k for k, _ in keys if k != otype.id_field]

    columns = (
        None
        if list_fields is None
        else [c for c in dict.fromkeys([*list_fields, *paths]) if c != otype.id_field]
    )
    all_lookups = {**lookups, **extern_lookups}

    def finish(frame: pd.DataFrame) -> pd.DataFrame:
        if compiled is not None:
            mask = compiled.mask(frame)
            frame = frame.loc[mask.to_numpy(dtype=bool)]
        if finish_sort:
            frame = _sort_frame(frame, keys, otype.id_field)
        if fields is not None:
            frame = frame[[c for c in dict.fromkeys([*fields, *paths]) if c not in (otype.id_field, "id")]]
        if limit is not None:
            frame = frame.iloc[:limit]
        return frame

    def typed(records: list[dict[str, Any]]) -> pd.DataFrame:
        return finish(
            frame_from_records(records, schema, id_field=otype.id_field, lookups=all_lookups, columns=columns)
        )

    if len(conditions) > 1:
        try:
            records = _load_union(
                session,
                otype,
                conditions,
                search=search,
                list_fields=list_fields,
                sort=sort_key,
                descending=descending,
                progress=progress,
                stats=stats,
                externs=paths,
            )
        except IncompleteLoadError as exc:
            exc.partial = typed(exc.records)
            raise
        return typed(records)

    # One condition: the pages are typed as they arrive (while the next ones are on the wire) and
    # their raw records let go; the frame is joined from the typed pieces after the last page.
    sink = TypedPages(FrameBuilder(schema, id_field=otype.id_field, lookups=all_lookups, columns=columns))
    try:
        load_records(
            session,
            otype,
            condition=conditions[0] or None,
            search=search,
            list_fields=list_fields,
            sort=sort_key,
            descending=descending,
            limit=None if compiled is not None or finish_sort else limit,
            progress=progress,
            stats=stats,
            externs=paths,
            sink=sink,
        )
    except IncompleteLoadError as exc:
        got = sink.frame()
        try:  # the raw records were let go as they were typed: give them back in wire form
            exc.records = frame_to_records(got, schema, id_field=otype.id_field, lookups=all_lookups)
        except SchemaError:  # pragma: no cover - a frame just read always writes back
            exc.records = []
        exc.partial = finish(got)
        raise
    return finish(sink.frame())


def _load_union(
    session: Session,
    otype: ObjectType,
    conditions: list[list[Any]],
    *,
    search: str | None,
    list_fields: list[str] | None,
    sort: str | None,
    descending: bool,
    progress: bool | None,
    stats: LoadStats,
    externs: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The records of several conditions, each record once (the first copy), in ascending id order
    (or the server's order of each part, when sorted: the caller sorts the union in pandas)."""
    by_id: dict[str, dict[str, Any]] = {}
    # one bar over the parts (a bar per part would stack dozens of bars in a notebook)
    bar: Progress = make_progress(
        len(conditions), f"{otype.name} (condition in parts)", enabled=progress, unit="part"
    )
    try:
        for condition in conditions:
            part = LoadStats()
            try:
                rows = load_records(
                    session,
                    otype,
                    condition=condition or None,
                    search=search,
                    list_fields=list_fields,
                    sort=sort,
                    descending=descending,
                    progress=False,
                    stats=part,
                    externs=externs,
                )
            except IncompleteLoadError as exc:  # keep the parts already merged
                exc.records = [*by_id.values(), *exc.records]
                raise
            for row in rows:
                rid = _row_id(row, otype.id_field)
                if rid is not None:
                    by_id.setdefault(rid, row)
            stats.pages += part.pages
            stats.requests += part.requests
            stats.seconds += part.seconds
            stats.rate_limit_wait += part.rate_limit_wait
            stats.reconciled = stats.reconciled or part.reconciled
            bar.update(1, rows=len(by_id))
    finally:
        bar.close()
    ids = sorted(by_id, key=lambda s: (len(s), s), reverse=descending and sort == otype.id_field)
    stats.count = stats.rows = len(ids)
    return [by_id[i] for i in ids]


def count_frame(
    session: Session,
    obj: ObjectType | str | int,
    *,
    where: str | None = None,
    search: str | None = None,
    params: Mapping[str, Any] | None = None,
    namespace: Mapping[str, Any] | None = None,
    max_condition_chars: int | None = None,
) -> int:
    """How many records :func:`load_frame` would return for ``where`` and ``search``.

    ``getInfo`` counts when the pushed-down condition selects exactly the expression's rows
    in one request; otherwise (text compared case-insensitively, parts left to pandas, a
    condition split over several requests) the ids and the columns the expression reads
    are loaded and the exact mask counted, so the number always equals
    ``len(load_frame(...))``.
    """
    otype = session.resolve(obj)
    if not where:
        if params is not None:
            raise QueryError("params= gives values for @names in where=; there is no where=")
        return count_records(session, otype, search=search)
    limit = max_condition_chars or MAX_CONDITION_CHARS
    exact, conditions, split_exact = _pushed_down(session, otype, where, params, namespace, limit)
    if exact and split_exact and len(conditions) == 1:
        return count_records(session, otype, condition=conditions[0] or None, search=search)
    frame = load_frame(
        session,
        otype,
        where=where,
        fields=[],
        search=search,
        progress=False,
        params=params,
        namespace=namespace,
        max_condition_chars=limit,
    )
    return len(frame)


def _compile(
    otype: ObjectType,
    schema: Any,
    lookups: Mapping[str, Mapping[str, str]],
    where: str,
    params: Mapping[str, Any] | None,
    namespace: Mapping[str, Any] | None,
) -> CompiledWhere:
    """``where`` compiled for pushing down: the condition the API can evaluate (a superset where it
    cannot be exact) and the exact pandas mask that finishes it."""
    return compile_where(
        where,
        schema,
        lookups=lookups,
        id_field=otype.id_field,
        partial=True,
        params=params,
        namespace=namespace,
    )


def _pushed_down(
    session: Session,
    otype: ObjectType,
    where: str,
    params: Mapping[str, Any] | None,
    namespace: Mapping[str, Any] | None,
    max_chars: int,
) -> tuple[bool, list[list[Any]], bool]:
    """``where`` compiled as the loader pushes it down: whether the compiled condition is exact,
    its parts (each short enough for one request) and whether cutting it into parts kept it exact."""
    schema = session.schema(otype)
    lookups = session.lookups(otype) if _needs_lookups(schema, [], where) else {}
    compiled = _compile(otype, schema, lookups, where, params, namespace)
    conditions, split_exact = split_condition(compiled.condition, max_chars)
    return compiled.exact, conditions, split_exact


def estimate_load(
    session: Session,
    obj: ObjectType | str | int,
    *,
    where: str | None = None,
    search: str | None = None,
    limit: int | None = None,
    params: Mapping[str, Any] | None = None,
    namespace: Mapping[str, Any] | None = None,
    max_condition_chars: int | None = None,
) -> Estimate:
    """What :func:`load_frame` with these options would cost, from ``getInfo`` alone.

    One ``getInfo`` per part of the pushed-down condition (usually one) is sent; the
    estimate counts the load's own ``getInfo`` and pages. ``rows`` is the number of
    records the pushed-down condition selects: the load keeps fewer when part of
    ``where`` is finished in pandas.
    """

    otype = session.resolve(obj)
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise ValueError(f"limit must be a non-negative integer, not {limit!r}")
    conditions: list[list[Any]] = [[]]
    if where:
        _, conditions, _ = _pushed_down(
            session, otype, where, params, namespace, max_condition_chars or MAX_CONDITION_CHARS
        )
    elif params is not None:
        raise QueryError("params= gives values for @names in where=; there is no where=")
    counts = [count_records(session, otype, condition=c or None, search=search) for c in conditions]
    limited = len(conditions) == 1 and not where and limit is not None
    pages = sum(-(-(min(n, limit) if limited and limit is not None else n) // PAGE_SIZE) for n in counts)
    rows = sum(counts) if limit is None else min(sum(counts), limit)
    return estimate(len(conditions) + pages, session.limiter, workers=max(1, session.max_workers), rows=rows)


def _needs_lookups(schema: Any, fields: Sequence[str] | None, where: str | None) -> bool:
    keys = list(schema.fields.keys() if fields is None else fields)
    subs = [k for k, spec in schema.fields.items() if spec.type == "subscription"]
    return any(k in keys for k in subs) or bool(where and any(k in where for k in subs))

"""The client ``op``: the one user-facing object.

``op = opd.connect(...)`` gives an :class:`Ontraport`. Each accessor returns every
record of an object type as a typed DataFrame indexed by record id; the frame's
``attrs["ontraport"]`` records which type and which connection it came from, so it
can be planned and pushed back later.
"""

from __future__ import annotations

import collections
import datetime as _dt
import inspect
import os
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any, Concatenate, Literal, ParamSpec, cast

import pandas as pd

from . import accessor as _accessor  # noqa: F401  (registers the df.ontraport accessor)
from .context import register_client
from .errors import NotFoundError
from .loader import LoadStats, count_frame, load_frame
from .objects import ObjectType
from .query import MAX_CONDITION_CHARS
from .session import Session
from .transports.base import Transport

if TYPE_CHECKING:
    from .bulk import BulkPlan, BulkResult
    from .duplicates import MergePlan
    from .eta import Estimate
    from .plan import Plan
    from .result import PushResult

__all__ = ["Ontraport"]

ObjectLike = ObjectType | str | int

_COW = int(pd.__version__.split(".")[0]) >= 3

#: Clients by id, so that a frame's ``attrs`` lead back to the client that loaded it.


#: The options every accessor takes, documented once (numpydoc); ``Ontraport.frame`` has the signature.
_OPTIONS_DOC = """\
        where : str, optional
            A pandas-``query``-like filter, e.g. ``"bulk_mail == 'Opted-in' and date >= '2025-01-01'"``,
            ``"state != 'CA'"``, ``"'Lead' not in contact_cat"``, ``"date.between('2025-01-01', '2025-06-30')"``,
            ``"email.str.contains('gmail', case=False)"`` or ``"email in @emails"``. What the API can
            evaluate is pushed down to its ``condition``; the rest is finished in pandas, so the rows are
            exactly the expression's. ``@name`` reads a variable of the caller (like
            :meth:`pandas.DataFrame.query`) or ``params``.
        fields : list of str, optional
            Load only these columns (fewer bytes on the wire).
        search : str, optional
            Ontraport's free-text search.
        sort : str or list of str, optional
            A column to sort by, ``"-date"`` for descending; a list sorts by several columns (the
            server by the first, pandas by all of them, stable, missing values last).
        limit : int, optional
            At most this many rows.
        progress : bool, optional
            Show a progress bar (default: in notebooks and terminals only).
        cache : bool, default False
            Keep this type's records on disk and, next time, fetch only the records
            modified since (plus a check for deleted ones). The result is the frame a
            full load would return; ``where``, ``fields``, ``sort`` and ``limit`` are
            applied to the refreshed records.
        params : mapping, optional
            Values for ``@name`` references in ``where`` (looked up before the caller's variables).
        externs : list of str, optional
            Columns of related records, as paths through parent fields:
            ``["owner//firstname", "f2001//owner//email"]`` (also accepted inside
            ``fields=``). Each is typed by the related field's type and read-only.
        labels : bool, default False
            Name the columns by their Ontraport labels ("Membership Level" instead of ``f1001``,
            "First Name" instead of ``firstname``). A label several fields share gets the key as a
            suffix ("IP Address [ip_addy]"), so every name stays one field. The frame still plans
            and pushes: ``attrs["ontraport"]["labels"]`` maps the labels back to keys, and
            :meth:`plan` works the same mapping out from the schema when ``attrs`` were lost.
            ``where``, ``fields`` and ``sort`` still take field keys.

        Returns
        -------
        pandas.DataFrame
            Columns are Ontraport field keys (labels with ``labels=True``) with pandas dtypes from the type table, the index is the
            record id; ``attrs["ontraport"]`` records the object type and the connection.

        Raises
        ------
        UnknownFieldError
            For a column (in ``where``, ``fields`` or ``sort``) the type does not have; before any request.
        QueryError
            For a ``where`` expression that cannot be evaluated (arithmetic, unknown labels, values that do
            not fit the field, an undefined ``@name``), or a ``sort`` that cannot be done; before any request.
"""

_P = ParamSpec("_P")


def _caller_namespace(frame: FrameType | None, where: str | None) -> Mapping[str, Any] | None:
    """The variables ``@name`` can read: the caller's locals, then its globals (only when used)."""
    if frame is None or not where or "@" not in where:
        return None
    return collections.ChainMap(frame.f_locals, frame.f_globals)


def _make_accessor(
    frame: Callable[Concatenate[Any, ObjectLike, _P], pd.DataFrame],
    object_type: str,
    summary: str,
    *,
    name: str | None = None,
) -> Callable[Concatenate[Any, _P], pd.DataFrame]:
    """An accessor such as ``op.contacts``: :meth:`Ontraport.frame` for one type, with its signature and
    its options' documentation. ``name``: the attribute, when it is not the type's name."""
    name = name or object_type
    full = inspect.signature(frame, eval_str=True)
    signature = full.replace(parameters=[p for n, p in full.parameters.items() if n != "object_type"])

    def accessor(self: Any, /, *args: _P.args, **kwargs: _P.kwargs) -> pd.DataFrame:
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{name}(): {exc}") from None
        options = dict(bound.arguments)
        options.pop("self")
        where = options.get("where")
        namespace = _caller_namespace(sys._getframe(1), where if isinstance(where, str) else None)
        defaults = {n: p.default for n, p in signature.parameters.items() if n != "self"}
        return self._load(object_type, **{**defaults, **options}, namespace=namespace)  # type: ignore[no-any-return]

    accessor.__name__ = name
    accessor.__qualname__ = f"Ontraport.{name}"
    accessor.__module__ = __name__
    accessor.__signature__ = signature  # type: ignore[attr-defined]
    accessor.__doc__ = f"""{summary} as a typed DataFrame indexed by record id: ``op.frame("{object_type}", …)``.

        Parameters
        ----------
{_OPTIONS_DOC}
        Examples
        --------
        >>> op = opd.connect("sandbox")
        >>> frame = op.{name}(limit=5)
        >>> len(frame) <= 5 and frame.index.name == "id"
        True
        """
    return accessor


class Ontraport:
    """A connection to one Ontraport account (or the sandbox).

    Build it with :func:`ontraport_pandas.connect`. Every accessor (``op.contacts``, ``op.deals``,
    …) is :meth:`frame` for one type, with the same keyword options, signature and documentation.

    Parameters
    ----------
    transport : Transport
        The backend that carries requests.
    max_workers : int
        Requests in flight at once during a load or a push.

    Attributes
    ----------
    tz : str or tzinfo
        The time zone date columns load in (``connect(tz=…)``; default ``"UTC"``).
    """

    #: The longest ``condition`` (URL-encoded characters) sent in one request; a longer one is sent as
    #: several requests whose rows are merged by id (see :func:`ontraport_pandas.query.split_condition`).
    max_condition_chars: int = MAX_CONDITION_CHARS
    #: :meth:`related` selects the related records by the frame's ids up to this many ids (a
    #: ``where=`` pushed down to the API); for more it loads the related type and filters in pandas.
    related_pushdown_ids: int = 500
    tz: Any = "UTC"

    def __init__(
        self,
        transport: Transport,
        *,
        max_workers: int = 8,
        session: Session | None = None,
        cache_dir: str | None = None,
        cache_key: str | None = None,
    ) -> None:
        self.session = session or Session(transport, max_workers=max_workers)
        self.transport = transport
        self.id = uuid.uuid4().hex[:12]
        self.cache_dir = cache_dir
        self.cache_key = cache_key or transport.name
        self.sandbox: Any = None  # the SandboxApp when this client runs on the embedded sandbox
        self._snapshots: dict[str, pd.DataFrame] = {}
        self._snapshot_path: str | os.PathLike[str] | None = None
        self._record_cache: Any = None
        register_client(self)

    # -- identity --------------------------------------------------------------------
    @property
    def name(self) -> str:
        """A description of the connection (never a secret)."""
        return self.transport.name

    @property
    def live(self) -> bool:
        """True when this client reaches real Ontraport data; False on the sandbox."""
        return bool(self.transport.live)

    @property
    def backend(self) -> str:
        """Which route carries requests (for Membrane: proxy route or CLI, and how contacts are written)."""
        return self.session.backend

    def __repr__(self) -> str:
        mode = "LIVE" if self.live else "SANDBOX"
        route = getattr(self.transport, "mode", None)  # Membrane: "proxy" or "cli"
        shown = f" via {route}" if isinstance(route, str) else ""
        return f"<Ontraport {mode}: {self.name}{shown}>"

    def close(self) -> None:
        """Close the transport (and the in-process sandbox)."""
        self.session.close()
        if self.sandbox is not None:
            self.sandbox.close()

    def __enter__(self) -> Ontraport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- raw access --------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        retry: bool | None = None,
        all_records: bool = False,
    ) -> dict[str, Any]:
        """Send any REST request the toolkit does not wrap yet and return the JSON envelope.

        Parameters
        ----------
        method : str
            ``"GET"``, ``"POST"``, ``"PUT"`` or ``"DELETE"``.
        path : str
            Relative to the API root, e.g. ``"Contacts"`` or ``"objects/tagByName"``.
        params : dict, optional
            Query parameters; lists are comma-joined.
        json : any, optional
            A JSON body.
        retry : bool, optional
            Retry 5xx answers, dropped connections and timeouts (default: only for GET).
        all_records : bool
            A collection ``DELETE`` or a tag / sequence / subscribe / pause / task action
            without ``ids``, ``condition`` or ``group_id`` (or with ``ids=0``) acts on every
            record of the type. It is refused unless this is True.

        Returns
        -------
        dict
            The decoded envelope, ``{"code": 0, "data": …, "account_id": …}``.

        Raises
        ------
        APIError
            For an error status, mapped to its subclass (401 -> AuthenticationError, …).
        EmptySelectionError
            For a bulk request that names no records, unless ``all_records=True``;
            nothing is sent.

        Examples
        --------
        >>> op = opd.connect("sandbox")
        >>> op.request("GET", "Contacts", params={"range": 2})["data"][0]["id"]
        '...'
        """
        return self.session.call(method, path, params=params, json=json, retry=retry, all_records=all_records)

    # -- metadata -----------------------------------------------------------------------
    def objects(self) -> pd.DataFrame:
        """The object types this account has (built-in types and custom objects)."""
        meta = self.session.meta()
        rows = []
        for t in self.session.catalog:
            entry = meta.get(str(t.id))
            rows.append(
                {
                    "object_type_id": t.id,
                    "name": t.name,
                    "label": t.label,
                    "route": t.plural or f"objects?objectID={t.id}",
                    "verbs": " ".join(v for v in ("GET", "POST", "PUT", "DELETE") if v in t.verbs),
                    "fields": len(entry.get("fields", {})) if isinstance(entry, dict) else 0,
                    "custom": t.custom,
                    "available": entry is not None,
                }
            )
        frame = pd.DataFrame(rows).set_index("object_type_id")
        return frame[frame["available"]].drop(columns="available")

    def fields(self, object_type: ObjectLike) -> pd.DataFrame:
        """The field metadata of a type: key, label (the alias), the field editor's section and
        id, Ontraport type, pandas dtype, flags, options."""
        from .field_editor import field_sections

        otype = self.session.resolve(object_type)
        schema = self.session.schema(otype)
        sections = field_sections(self.session, otype)
        rows = [
            {
                "key": spec.key,
                "label": spec.label,
                "section": sections.get(spec.key, (None, None))[0],
                "field_id": sections.get(spec.key, (None, None))[1],
                "type": spec.type,
                "dtype": str(spec.dtype),
                "editable": not spec.read_only,
                "required": spec.required,
                "unique": spec.unique,
                "options": list(dict(spec.options).values()) if spec.options else None,
            }
            for spec in schema.fields.values()
        ]
        frame = pd.DataFrame(rows).set_index("key")
        frame["section"] = frame["section"].astype(pd.StringDtype("python"))
        frame["field_id"] = frame["field_id"].astype("Int64")
        return frame

    def create_field(
        self,
        object_type: ObjectLike,
        alias: str,
        type: str,
        *,
        section: str = "Custom Fields",
        options: Sequence[str] | None = None,
        required: bool = False,
        unique: bool = False,
        confirm: bool = False,
    ) -> str:
        """Create a custom field (``objects/fieldeditor``) and return its key, e.g. ``"f1557"``.

        Parameters
        ----------
        object_type : str or int
            The type to add the field to.
        alias : str
            The field's label; must not be used by another field of the type.
        type : str
            ``text``, ``longtext``, ``email``, ``phone``, ``sms``, ``url``, ``address``,
            ``numeric``, ``price``, ``check``, ``fulldate``, ``timestamp``, ``drop``, ``list``,
            ``state`` or ``country``.
        section : str
            The field editor section (created when new).
        options : list of str, optional
            The labels of a ``drop`` or ``list`` field (required for those).
        confirm : bool
            Must be True: a new field is visible to every user of the account.

        Raises
        ------
        ValidationError
            For a bad alias, type, section or options, before anything is sent.
        ConfirmationRequired
            Without ``confirm=True``; nothing is sent.
        """
        from .field_editor import create_field

        return create_field(
            self.session,
            self.session.resolve(object_type),
            alias,
            type,
            section=section,
            options=options,
            required=required,
            unique=unique,
            confirm=confirm,
        )

    def count(
        self,
        object_type: ObjectLike,
        *,
        where: str | None = None,
        search: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> int:
        """How many records match: always ``len(op.frame(object_type, where=…, search=…))``.

        Parameters
        ----------
        object_type : str or int
            ``"contacts"``, ``"deals"``, ``0``, a custom object's name, …
        where, search, params
            As for :meth:`frame` (``@name`` references are read from the caller's variables).

        Returns
        -------
        int
            From ``getInfo`` alone when the pushed-down condition selects exactly the
            expression's rows; otherwise (text, which the server may compare
            case-insensitively, parts finished in pandas, a condition sent in several
            requests) the ids and the columns the expression reads are loaded and counted.
        """
        namespace = _caller_namespace(sys._getframe(1), where)
        return count_frame(
            self.session,
            object_type,
            where=where,
            search=search,
            params=params,
            namespace=namespace,
            max_condition_chars=self.max_condition_chars,
        )

    def estimate(
        self,
        object_type: ObjectLike,
        *,
        where: str | None = None,
        search: str | None = None,
        limit: int | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Estimate:
        """What loading ``object_type`` would cost, before loading it: requests and time.

        Asks ``getInfo`` for the count (one request per part of the condition) and
        returns an :class:`~ontraport_pandas.eta.Estimate` at the account's rate limit;
        ``str()`` of it reads ``"≈ 41 requests, under a minute (2,000 rows)"``. The same
        figure is shown in a load's progress bar as it starts.

        Parameters
        ----------
        object_type : str or int
            As for :meth:`frame`.
        where, search, limit, params
            As for :meth:`frame`. ``rows`` counts what the pushed-down condition selects (a
            ``where`` partly finished in pandas keeps fewer).

        Examples
        --------
        >>> op = opd.connect("sandbox")
        >>> print(op.estimate("contacts", where="bulk_mail == 'Opted-in'"))
        ≈ 24 requests, under a minute (1,106 rows)
        """
        from .loader import estimate_load

        namespace = _caller_namespace(sys._getframe(1), where)
        return estimate_load(
            self.session,
            object_type,
            where=where,
            search=search,
            limit=limit,
            params=params,
            namespace=namespace,
            max_condition_chars=self.max_condition_chars,
        )

    # -- frames ---------------------------------------------------------------------------
    def frame(
        self,
        object_type: ObjectLike,
        *,
        where: str | None = None,
        fields: Sequence[str] | None = None,
        search: str | None = None,
        sort: str | Sequence[str] | None = None,
        limit: int | None = None,
        progress: bool | None = None,
        cache: bool = False,
        params: Mapping[str, Any] | None = None,
        externs: Sequence[str] | None = None,
        labels: bool = False,
    ) -> pd.DataFrame:
        namespace = _caller_namespace(sys._getframe(1), where)
        return self._load(
            object_type,
            where=where,
            fields=fields,
            search=search,
            sort=sort,
            limit=limit,
            progress=progress,
            cache=cache,
            params=params,
            externs=externs,
            namespace=namespace,
            labels=labels,
        )

    frame.__doc__ = f"""Every record of an object type as a typed DataFrame indexed by record id.

        Parameters
        ----------
        object_type : str or int
            ``"contacts"``, ``"deals"``, ``0``, ``"Contact"``, a custom object's name, …
{_OPTIONS_DOC}"""

    def _load(
        self,
        object_type: ObjectLike,
        *,
        where: str | None,
        fields: Sequence[str] | None,
        search: str | None,
        sort: str | Sequence[str] | None,
        limit: int | None,
        progress: bool | None,
        cache: bool,
        params: Mapping[str, Any] | None,
        namespace: Mapping[str, Any] | None,
        externs: Sequence[str] | None = None,
        labels: bool = False,
    ) -> pd.DataFrame:
        if not isinstance(labels, bool):
            raise TypeError(f"labels must be True or False, not {labels!r}")
        otype = self.session.resolve(object_type)
        stats = LoadStats()
        frame = load_frame(
            self.session,
            otype,
            where=where,
            fields=fields,
            search=search,
            sort=sort,
            limit=limit,
            progress=progress,
            stats=stats,
            cache=self.record_cache() if cache else None,
            params=params,
            namespace=namespace,
            max_condition_chars=self.max_condition_chars,
            externs=externs,
        )
        frame = self._stamp(frame, otype, where=where, fields=fields, stats=stats)
        if labels:
            frame = self._labelled(frame, otype)
        return frame

    def _labelled(self, frame: pd.DataFrame, otype: ObjectType) -> pd.DataFrame:
        """The loaded frame with label columns; its snapshot keeps the field keys."""
        from .labels import apply_labels
        from .related import is_extern, resolve_externs

        schema = self.session.schema(otype)
        paths = [str(c) for c in frame.columns if is_extern(c)]
        if paths:
            schema, _ = resolve_externs(self.session, otype, schema, paths)
        return apply_labels(frame, schema)

    def record_cache(self) -> Any:
        """The on-disk record cache of this connection (see ``frame(cache=True)``)."""
        from .cache import RecordCache, default_cache_dir

        if self._record_cache is None:
            self._record_cache = RecordCache(self.cache_dir or default_cache_dir(), self.cache_key)
        return self._record_cache

    def _stamp(
        self,
        frame: pd.DataFrame,
        otype: ObjectType,
        *,
        where: str | None = None,
        fields: Sequence[str] | None = None,
        stats: LoadStats | None = None,
    ) -> pd.DataFrame:
        from .schema import local_dates

        attrs = frame.attrs
        frame = local_dates(frame, self.tz)
        frame.attrs = attrs
        load_id = uuid.uuid4().hex
        frame.attrs["ontraport"] = {
            "object_type": otype.name,
            "object_type_id": otype.id,
            "connection": self.name,
            "client_id": self.id,
            "live": self.live,
            "load_id": load_id,
            "loaded_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "where": where,
            "fields": list(fields) if fields is not None else None,
            "stats": vars(stats) if stats is not None else None,
        }
        # Under copy-on-write (pandas 3) a shallow copy is a frozen view of the load;
        # pandas 2 needs a real copy so that in-place edits do not reach the snapshot.
        self._snapshots[load_id] = frame.copy(deep=not _COW)
        frame.attrs["ontraport"]["snapshot"] = load_id
        return frame

    def snapshot(
        self,
        target: pd.DataFrame | str | os.PathLike[str],
        *,
        types: Sequence[ObjectLike] | None = None,
        progress: bool | None = None,
    ) -> pd.DataFrame | None:
        """Write the whole account to a folder as Parquet; or, given a frame, the frame as it was loaded.

        ``op.snapshot("crm/")`` writes every object type as ``crm/<type>.parquet``, typed
        (list columns and categoricals kept), with ``crm/manifest.json`` describing each
        column and every relation between the tables. Later calls are incremental: the
        records come through the record cache (only what changed since is fetched) and a
        table whose content did not change is not rewritten. Query it with :meth:`sql`, read
        a table back with ``opd.read_snapshot("crm/", "contacts")``. Needs the ``snapshot``
        extra (pyarrow, duckdb). See :mod:`ontraport_pandas.snapshot`.

        ``op.snapshot(frame)`` (a frame this client loaded) returns the frame as it was
        loaded, or None if unknown: what :meth:`plan` compares with.

        Parameters
        ----------
        target : str, path or DataFrame
            The folder of the snapshot (created if missing), or a loaded frame.
        types : list of str or int, optional
            Only these types (the others keep their previous tables); default every type.
        progress : bool, optional
            Progress bars for the loads.

        Returns
        -------
        pandas.DataFrame or None
            For a folder: one row per type with ``rows``, ``status`` (``written``,
            ``unchanged``, ``failed``), ``file``, ``requests`` and ``error``.
        """
        if isinstance(target, pd.DataFrame):
            info = target.attrs.get("ontraport") or {}
            return self._snapshots.get(info.get("load_id", ""))
        from .snapshot import write_snapshot

        out = write_snapshot(self, target, types=types, progress=progress)
        self._snapshot_path = os.fspath(target)
        return out

    def sql(self, query: str, *, path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
        """Query a snapshot with DuckDB: every type is a table named after it.

        Parameters
        ----------
        query : str
            DuckDB SQL, e.g. ``"select owner, count(*) from deals group by owner"``; list
            columns are DuckDB lists (``list_contains(contact_cat, 'Yoga')``).
        path : str or path, optional
            The snapshot folder (default: the last one :meth:`snapshot` wrote).

        Raises
        ------
        QueryError
            When DuckDB refuses the query, with its message.
        ConfigurationError
            When there is no snapshot to query.
        """
        from .errors import ConfigurationError
        from .snapshot import sql

        where = path if path is not None else self._snapshot_path
        if where is None:
            raise ConfigurationError("no snapshot to query: write one with op.snapshot('crm/') or pass path=")
        return sql(query, where)

    def coerce(self, frame: pd.DataFrame, object_type: ObjectLike | None = None) -> pd.DataFrame:
        """Type a frame that came back from a CSV file, Excel or a Google Sheet like a loaded one.

        Ids become the ``Int64`` index (from an ``id`` column or the index; a blank id is a
        new row), and every field column is converted by the type table: dates, numbers,
        booleans, dropdown labels, and tag or list columns from their text form
        (``"['Yoga', 'Webinar 2025']"``, ``"Yoga, Webinar 2025"`` or ``"*/*1*/*2*/*"``).
        The result plans like a loaded frame: with no load snapshot, :meth:`plan` compares
        it with the records as they are now (and, when it carries the ``dlm`` it was
        exported with, reports records modified since then as conflicts). See
        :mod:`ontraport_pandas.coerce` for every accepted form.

        Parameters
        ----------
        frame : pandas.DataFrame
            Not modified.
        object_type : str or int, optional
            ``"contacts"``, ``"deals"``, …; needed when ``frame.attrs`` do not say.

        Raises
        ------
        ValidationError
            Every cell that does not fit, by row, column and value. Nothing is returned half-typed.

        Examples
        --------
        >>> op = opd.connect("sandbox")
        >>> op.contacts(limit=3).to_csv("contacts.csv")
        >>> text = pd.read_csv("contacts.csv", dtype=str, keep_default_na=False)  # cells as written
        >>> back = op.coerce(text, "contacts")
        >>> len(op.plan(back))  # nothing changed: an empty plan
        0

        Read the file as text: a ``pd.read_csv`` that guesses types has already turned phone numbers
        and zip codes into floats (``opd.read_csv(path, "contacts", client=op)`` does both steps).
        """
        from .coerce import coerce_frame
        from .errors import Problem, ValidationError

        if object_type is None:
            info = frame.attrs.get("ontraport") or {} if isinstance(frame, pd.DataFrame) else {}
            object_type = info.get("object_type_id", info.get("object_type"))
        if object_type is None:
            raise ValidationError(
                [
                    Problem(
                        None, None, None, "say which object type the frame holds: op.coerce(df, 'contacts')"
                    )
                ]
            )
        otype = self.session.resolve(object_type)
        schema = self.session.schema(otype)
        lookups = self.session.lookups(otype)
        out = coerce_frame(frame, schema, otype, lookups=lookups)
        out.attrs["ontraport"] = {
            "object_type": otype.name,
            "object_type_id": otype.id,
            "connection": self.name,
            "client_id": self.id,
            "live": self.live,
            "coerced": True,
        }
        return out

    def loads(self, object_type: ObjectLike | None = None) -> list[pd.DataFrame]:
        """Every frame this client loaded (of one type), as loaded, oldest first.

        Columns are field keys (also for ``labels=True`` loads); each frame's ``attrs`` say
        which type it is and when it was loaded. :meth:`plan` recovers a frame's type and
        records from them when ``pd.concat``, ``merge`` or ``join`` dropped its ``attrs``.
        """
        frames = list(self._snapshots.values())
        if object_type is None:
            return frames
        type_id = self.session.resolve(object_type).id
        return [f for f in frames if (f.attrs.get("ontraport") or {}).get("object_type_id") == type_id]

    contacts = _make_accessor(frame, "contacts", "Every contact")
    tasks = _make_accessor(frame, "tasks", "Every task")
    deals = _make_accessor(frame, "deals", "Every deal")
    companies = _make_accessor(frame, "companies", "Every company")
    sequences = _make_accessor(frame, "sequences", "Every sequence")
    rules = _make_accessor(frame, "rules", "Every rule")
    forms = _make_accessor(frame, "forms", "Every form")
    messages = _make_accessor(frame, "messages", "Every message")
    notes = _make_accessor(frame, "notes", "Every note")
    products = _make_accessor(frame, "products", "Every product")
    purchases = _make_accessor(frame, "purchases", "Every purchase")
    transactions = _make_accessor(frame, "transactions", "Every transaction")
    offers = _make_accessor(frame, "offers", "Every offer")
    tags = _make_accessor(frame, "tags", "Every tag")
    groups = _make_accessor(frame, "groups", "Every group")
    users = _make_accessor(frame, "users", "Every user (staff member: the owners of records)")
    automations = _make_accessor(frame, "automations", "Every Campaign Builder item (automation)")
    campaigns = automations
    landing_pages = _make_accessor(frame, "landing_pages", "Every landing page")
    credit_cards = _make_accessor(
        frame, "credit_cards", "Every stored credit card (last 4 digits, type, expiry, status)"
    )
    orders = _make_accessor(frame, "orders", "Every order (subscriptions and payment plans)")
    open_orders = _make_accessor(frame, "open_orders", "Every open order (unpaid carts)")
    purchase_history = _make_accessor(
        frame,
        "purchase_history_logs",
        "Every purchase history log entry (purchases, refunds, declines)",
        name="purchase_history",
    )
    webhooks = _make_accessor(frame, "webhooks", "Every webhook subscription")

    # -- joins ------------------------------------------------------------------------------------
    def related(
        self,
        frame: pd.DataFrame,
        related: ObjectLike,
        *,
        on: str | None = None,
        fields: Sequence[str] | None = None,
        prefix: str | None = None,
        object_type: ObjectLike | None = None,
        labels: bool | None = None,
        progress: bool | None = None,
    ) -> pd.DataFrame:
        """``frame`` joined to its related records, one row per related record.

        ``op.related(contacts, "deals")`` (or ``"transactions"``, ``"purchases"``,
        ``"tasks"``, ``"notes"``; any type with a field pointing at the frame's type)
        repeats each contact's row for each of its deals and adds the deal's columns
        with a prefix (``deal_id``, ``deal_name``, ``deal_owner``, ``deal_date``), so
        nothing clashes with the frame's own columns. A contact without deals keeps one
        row whose deal columns are NA. See :mod:`ontraport_pandas.joins`.

        Parameters
        ----------
        frame : pandas.DataFrame
            Indexed by record id: a loaded frame (``fields=`` and ``labels=True`` frames too).
        related : str or int
            The related type.
        on : str, optional
            The related type's field that holds the frame's ids, when several do.
        fields : list of str, optional
            Related columns to add (field keys; default: all of them).
        prefix : str, optional
            Instead of the related type's singular name (``"deal_"``).
        object_type : str or int, optional
            The frame's type, when its ``attrs`` were lost and this client's loads do not tell.
        labels : bool, optional
            Name the related columns by label ("Deal: Deal Name"); default: as the frame does.
        progress : bool, optional
            A progress bar while the related records load.

        Returns
        -------
        pandas.DataFrame
            Indexed by the frame's record id (repeated once per related record); for
            analysis, not for planning (its ids repeat).

        Raises
        ------
        UnknownFieldError
            When no field (or several, without ``on=``) links the types, or a field in
            ``fields`` is unknown; before any request for related records.
        ValidationError
            When a prefixed column already exists in the frame.
        """
        from .joins import related_frame

        return related_frame(
            self,
            frame,
            related,
            on=on,
            fields=fields,
            prefix=prefix,
            object_type=object_type,
            labels=labels,
            progress=progress,
        )

    # -- single records --------------------------------------------------------------------
    def get(self, object_type: ObjectLike, id: int | str) -> pd.Series:
        """One record as a typed Series.

        Raises
        ------
        NotFoundError
            If there is no record with that id.
        """
        from .schema import frame_from_records, local_dates

        otype = self.session.resolve(object_type)
        path, params = otype.route(many=False)
        data = self.session.data("GET", path, params={**params, "id": str(id)})
        if not data:
            raise NotFoundError(f"No {otype.label} with id {id}.", status=404, method="GET", path=path)
        schema = self.session.schema(otype)
        lookups = self.session.lookups(otype)
        frame = local_dates(
            frame_from_records([data], schema, id_field=otype.id_field, lookups=lookups), self.tz
        )
        row = frame.iloc[0]
        row.name = frame.index[0]
        return row

    def contact(self, id: int | str) -> pd.Series:
        """One contact as a typed Series."""
        return self.get("contacts", id)

    def contact_by_email(self, email: str) -> pd.Series:
        """The contact with this e-mail address (``object/getByEmail``).

        Raises
        ------
        NotFoundError
            If no contact has it.
        """
        data = self.session.data("GET", "object/getByEmail", params={"objectID": 0, "email": email})
        if not isinstance(data, dict) or "id" not in data:
            raise NotFoundError(f"No contact with e-mail {email!r}.", status=404, path="object/getByEmail")
        return self.contact(data["id"])

    # -- actions -------------------------------------------------------------------------------
    def actions(self, intent: str | None = None) -> pd.DataFrame:
        """The named actions this connection can run: key, id, name, description, input and output schema.

        On Membrane, what the connection offers (``membrane action list``), with the id
        each one runs by; elsewhere the built-in catalog of the Membrane Ontraport
        connector's popular actions.
        """
        from .actions import list_actions

        return list_actions(self, intent)

    def run(self, key: str, input: Mapping[str, Any] | None = None, *, raw: bool = False) -> Any:
        """Run a named action (``list-contacts``, ``create-or-update-contact``, …).

        On Membrane the hosted action runs by id (the key is resolved to the connection's
        action by key, then id, then name); elsewhere a built-in equivalent over REST with the
        same input and output shape. List actions return typed DataFrames.
        """
        from .actions import run_action

        return run_action(self, key, input, raw=raw)

    # -- duplicates ---------------------------------------------------------------------------
    def duplicates(
        self,
        contacts: pd.DataFrame | None = None,
        on: Sequence[str] = ("email", "phone", "name"),
        **options: Any,
    ) -> pd.DataFrame:
        """Groups of duplicate contacts to review (:func:`ontraport_pandas.duplicates.find_duplicates`).

        ``contacts`` defaults to every contact. Needs the ``clean`` extra for phones and names.
        """
        from .duplicates import find_duplicates

        frame = self.contacts(progress=False) if contacts is None else contacts
        return find_duplicates(frame, on=cast(Any, on), **options)

    def plan_merge(self, groups: pd.DataFrame, **options: Any) -> MergePlan:
        """Plan merging each group into one contact (:func:`ontraport_pandas.duplicates.plan_merge`)."""
        from .duplicates import plan_merge

        return plan_merge(self, groups, **options)

    # -- write-back ---------------------------------------------------------------------------
    def plan(
        self,
        edited: pd.DataFrame,
        *,
        original: pd.DataFrame | None = None,
        object_type: ObjectLike | None = None,
        delete_missing: bool = False,
        on_null: Literal["clear", "skip"] = "clear",
        on_conflict: Literal["skip", "overwrite"] = "skip",
        journal_dir: str | None = None,
        allow_empty: bool = False,
    ) -> Plan:
        """What pushing ``edited`` would write, checked and ready to apply; nothing is sent.

        Parameters
        ----------
        edited : pandas.DataFrame
            A frame loaded by this client, edited with pandas, indexed by record id as
            loaded (whole numbers of any dtype: ``12.0`` after a ``pd.concat`` is id 12).
            Rows with an NA index label, a negative one (``-1``) or one starting with
            ``new`` (``"new-1"``) are created. Any other index (positional after
            ``reset_index(drop=True)``, e-mails, re-sorted ids) is refused.
        original : pandas.DataFrame, optional
            The frame as loaded (default: this client's snapshot of the load; when
            ``pd.concat``, ``merge`` or ``join`` dropped the frame's ``attrs``, the records
            as this client loaded them, see :mod:`ontraport_pandas.lineage`).
        object_type : str or int, optional
            Needed only when neither the frame's ``attrs`` nor its columns and ids (among
            this client's loads) say. Columns named by labels (``labels=True``) are
            mapped back to field keys.
        delete_missing : bool
            Delete records whose rows were removed from the frame.
        on_null : {"clear", "skip"}
            A cell changed to NA clears the field (``"clear"``) or keeps the stored value.
        on_conflict : {"skip", "overwrite"}
            Records modified in Ontraport since the load are reported as conflicts and
            left alone, or overwritten.
        journal_dir : str, optional
            Folder for the push journal.
        allow_empty : bool
            Create new rows that hold no value at all (refused by default: an all-NA
            row is usually a mistake).

        Returns
        -------
        Plan
            Renders as a diff in Jupyter; ``plan.apply()`` sends it.

        Raises
        ------
        ValidationError
            Every problem at once (row, column, value): unknown, duplicated or read-only
            columns, duplicate or changed ids, values that do not fit (``inf``, prices with
            more than two decimals, text that is not valid UTF-8, list columns holding
            strings), unknown dropdown labels, invalid e-mails, required fields missing or
            cleared, empty new rows. An index that is not the record ids is reported alone.
            Nothing is sent.
        """
        from .writer import build_plan

        return build_plan(
            self,
            edited,
            original=original,
            object_type=object_type,
            delete_missing=delete_missing,
            on_null=on_null,
            on_conflict=on_conflict,
            journal_dir=journal_dir,
            allow_empty=allow_empty,
        )

    def push(
        self,
        edited: pd.DataFrame,
        *,
        confirm: int | None = None,
        progress: bool | None = None,
        **plan_options: Any,
    ) -> PushResult:
        """Plan and apply in one step: ``op.plan(edited, **plan_options).apply(confirm=…)``."""
        return self.plan(edited, **plan_options).apply(confirm=confirm, progress=progress)

    def _apply_plan(self, plan: Plan, **options: Any) -> PushResult:
        """What :meth:`Plan.apply` runs (the writer sits above the plan, so the plan asks its client)."""
        from .writer import apply_plan

        return apply_plan(plan, **options)

    def resume(
        self,
        journal: str | os.PathLike[str],
        *,
        progress: bool | None = None,
        force: bool = False,
        retry_unknown: bool = False,
    ) -> PushResult | BulkResult:
        """Finish a push that stopped part-way, from its journal, without sending anything twice.

        The journal is locked while this runs; a journal written for another account or
        connection is refused unless ``force=True``; a create that may have been applied
        and is still not found stays ``unknown`` unless ``retry_unknown=True``. See
        :func:`ontraport_pandas.writer.resume`. A bulk operation's journal (tasks,
        memberships, transactions; see :mod:`ontraport_pandas.bulk`) is finished by
        :func:`ontraport_pandas.bulk.resume_bulk`.
        """
        if _journal_kind(journal) == "bulk":
            from .bulk import resume_bulk

            return resume_bulk(self, journal)
        from .writer import resume

        return resume(self, journal, progress=progress, force=force, retry_unknown=retry_unknown)

    def undo(
        self,
        journal: str | os.PathLike[str],
        *,
        progress: bool | None = None,
        force: bool = False,
        journal_dir: str | None = None,
    ) -> PushResult | BulkResult:
        """Restore the before-images of what a push applied, from its journal.

        Refuses a journal written for another account or connection unless
        ``force=True``; the undo's own journal goes to ``journal_dir`` (default: the
        usual journal folder). See :func:`ontraport_pandas.writer.undo`; an undoable bulk
        operation's journal is undone by :func:`ontraport_pandas.bulk.undo_bulk`.
        """
        if _journal_kind(journal) == "bulk":
            from .bulk import undo_bulk

            return undo_bulk(self, journal, journal_dir=journal_dir)
        from .writer import undo

        return undo(self, journal, progress=progress, force=force, journal_dir=journal_dir)

    # -- bulk operations (see ontraport_pandas.bulk) ------------------------------------------------
    def complete_tasks(
        self, tasks: pd.DataFrame, *, outcome: str | None = None, updates: Mapping[str, Any] | None = None
    ) -> BulkPlan:
        """Plan ``task/complete`` for the tasks of a frame, with an optional outcome and
        field ``updates`` on each task's contact. Undo reopens them."""
        from .bulk_ops import task_status

        return task_status(self, tasks, "complete", outcome=outcome, updates=updates)

    def cancel_tasks(self, tasks: pd.DataFrame) -> BulkPlan:
        """Plan ``task/cancel`` for the tasks of a frame."""
        from .bulk_ops import task_status

        return task_status(self, tasks, "cancel")

    def reopen_tasks(self, tasks: pd.DataFrame) -> BulkPlan:
        """Plan ``task/reopen`` for the tasks of a frame."""
        from .bulk_ops import task_status

        return task_status(self, tasks, "reopen")

    def reschedule_tasks(self, tasks: pd.DataFrame, *, due: Any = None) -> BulkPlan:
        """Plan ``task/reschedule`` for the tasks whose ``date_due`` was edited in the frame
        (or for every task of the frame, to ``due=``: a timestamp or a Series by task id)."""
        from .bulk_ops import reschedule_tasks

        return reschedule_tasks(self, tasks, due=due)

    def reassign_tasks(self, tasks: pd.DataFrame, owner: int) -> BulkPlan:
        """Plan giving the tasks of a frame to user ``owner``."""
        from .bulk_ops import reassign_tasks

        return reassign_tasks(self, tasks, owner)

    def assign_task(
        self, records: pd.DataFrame, message: int, *, due_in_days: int = 0, owner: int | None = None
    ) -> BulkPlan:
        """Plan ``task/assign``: a task from task message ``message`` for each record of the frame."""
        from .bulk_ops import assign_task

        return assign_task(self, records, message, due_in_days=due_in_days, owner=owner)

    def plan_memberships(self, edited: pd.DataFrame, **plan_options: Any) -> Plan:
        """The same plan as ``op.plan(edited, **plan_options)``.

        Edits of a frame's ``updateSequence`` / ``updateCampaign`` columns are planned by
        :meth:`plan` as subscribe / unsubscribe operations grouped by sequence or automation,
        together with the frame's other edits; this name is kept for code written before."""
        return self.plan(edited, **plan_options)

    def pause(self, frame: pd.DataFrame) -> BulkPlan:
        """Plan pausing the rules, sequences or automations of a frame."""
        from .bulk_ops import pause

        return pause(self, frame, paused=True)

    def unpause(self, frame: pd.DataFrame) -> BulkPlan:
        """Plan unpausing the rules, sequences or automations of a frame."""
        from .bulk_ops import pause

        return pause(self, frame, paused=False)

    def transaction_plan(
        self,
        transactions: pd.DataFrame,
        action: Literal["mark_paid", "write_off", "void", "refund", "resend_invoice"],
    ) -> BulkPlan:
        """Plan a transaction action for the rows of a frame; always applied with ``confirm=``."""
        from .bulk_ops import transaction_action

        return transaction_action(self, transactions, action)


def _journal_kind(journal: str | os.PathLike[str]) -> str | None:
    import json

    try:
        with open(journal, encoding="utf-8") as fh:
            first = json.loads(fh.readline() or "{}")
    except (OSError, ValueError):
        return None
    return first.get("kind") if isinstance(first, dict) else None

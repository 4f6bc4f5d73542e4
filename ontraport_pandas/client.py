"""The client ``op``: the one user-facing object.

``op = opd.connect(...)`` gives an :class:`Ontraport`. Each accessor returns every
record of an object type as a typed DataFrame indexed by record id; the frame's
``attrs["ontraport"]`` records which type and which connection it came from, so it
can be planned and pushed back later.
"""

from __future__ import annotations

import datetime as _dt
import os
import uuid
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from .errors import NotFoundError
from .loader import LoadStats, count_records, load_frame
from .objects import ObjectType
from .session import Session
from .transports.base import Transport

if TYPE_CHECKING:
    from .plan import Plan
    from .result import PushResult

__all__ = ["Ontraport"]

ObjectLike = ObjectType | str | int

_COW = int(pd.__version__.split(".")[0]) >= 3

#: Clients by id, so that a frame's ``attrs`` lead back to the client that loaded it.
_CLIENTS: weakref.WeakValueDictionary[str, Ontraport] = weakref.WeakValueDictionary()


def client_for(frame: pd.DataFrame) -> Ontraport | None:
    """The live client that loaded ``frame``, if it still exists."""
    info = frame.attrs.get("ontraport") or {}
    return _CLIENTS.get(info.get("client_id", ""))


class Ontraport:
    """A connection to one Ontraport account (or the sandbox).

    Build it with :func:`ontraport_pandas.connect`. Every accessor takes the same
    keyword options as :meth:`frame`.

    Parameters
    ----------
    transport : Transport
        The backend that carries requests.
    max_workers : int
        Requests in flight at once during a load or a push.
    """

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
        self._record_cache: Any = None
        _CLIENTS[self.id] = self

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

        Returns
        -------
        dict
            The decoded envelope, ``{"code": 0, "data": …, "account_id": …}``.

        Raises
        ------
        APIError
            For an error status, mapped to its subclass (401 -> AuthenticationError, …).

        Examples
        --------
        >>> op = opd.connect("sandbox")
        >>> op.request("GET", "Contacts", params={"range": 2})["data"][0]["id"]
        '...'
        """
        return self.session.call(method, path, params=params, json=json, retry=retry)

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
        """The field metadata of a type: key, label, Ontraport type, pandas dtype, flags, options."""
        schema = self.session.schema(object_type)
        rows = [
            {
                "key": spec.key,
                "label": spec.label,
                "type": spec.type,
                "dtype": str(spec.dtype),
                "editable": not spec.read_only,
                "required": spec.required,
                "unique": spec.unique,
                "options": list(dict(spec.options).values()) if spec.options else None,
            }
            for spec in schema.fields.values()
        ]
        return pd.DataFrame(rows).set_index("key")

    def count(self, object_type: ObjectLike, *, where: str | None = None, search: str | None = None) -> int:
        """How many records match, without loading them.

        Text comparisons in ``where`` are counted as the server compares them
        (possibly case-insensitively); load the frame for the exact rows.
        """
        otype = self.session.resolve(object_type)
        condition = None
        if where:
            from .query import compile_where

            schema = self.session.schema(otype)
            condition = compile_where(
                where, schema, lookups=self.session.lookups(otype), id_field=otype.id_field
            ).condition
        return count_records(self.session, otype, condition=condition, search=search)

    # -- frames ---------------------------------------------------------------------------
    def frame(
        self,
        object_type: ObjectLike,
        *,
        where: str | None = None,
        fields: Sequence[str] | None = None,
        search: str | None = None,
        sort: str | None = None,
        limit: int | None = None,
        progress: bool | None = None,
        cache: bool = False,
    ) -> pd.DataFrame:
        """Every record of an object type as a typed DataFrame indexed by record id.

        Parameters
        ----------
        object_type : str or int
            ``"contacts"``, ``"deals"``, ``0``, ``"Contact"``, a custom object's name, …
        where : str, optional
            A pandas-``query``-like filter pushed down to the API, e.g.
            ``"bulk_mail == 1 and date >= '2025-01-01'"``.
        fields : list of str, optional
            Load only these columns (fewer bytes on the wire).
        search : str, optional
            Ontraport's free-text search.
        sort : str, optional
            A column to sort by; ``"-date"`` for descending.
        limit : int, optional
            At most this many rows.
        progress : bool, optional
            Show a progress bar (default: in notebooks and terminals only).
        cache : bool
            Keep this type's records on disk and, next time, fetch only the records
            modified since (plus a check for deleted ones). The result is the frame a
            full load would return; ``where``, ``fields``, ``sort`` and ``limit`` are
            applied to the refreshed records.

        Returns
        -------
        pandas.DataFrame
            Columns are Ontraport field keys with pandas dtypes from the type table;
            ``attrs["ontraport"]`` records the object type and the connection.
        """
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
        )
        return self._stamp(frame, otype, where=where, fields=fields, stats=stats)

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

    def snapshot(self, frame: pd.DataFrame) -> pd.DataFrame | None:
        """The frame as it was loaded, for a frame this client returned (None if unknown)."""
        info = frame.attrs.get("ontraport") or {}
        return self._snapshots.get(info.get("load_id", ""))

    def contacts(self, **options: Any) -> pd.DataFrame:
        """Every contact; see :meth:`frame` for the options."""
        return self.frame("contacts", **options)

    def tasks(self, **options: Any) -> pd.DataFrame:
        """Every task; see :meth:`frame`."""
        return self.frame("tasks", **options)

    def deals(self, **options: Any) -> pd.DataFrame:
        """Every deal; see :meth:`frame`."""
        return self.frame("deals", **options)

    def companies(self, **options: Any) -> pd.DataFrame:
        """Every company; see :meth:`frame`."""
        return self.frame("companies", **options)

    def sequences(self, **options: Any) -> pd.DataFrame:
        """Every sequence; see :meth:`frame`."""
        return self.frame("sequences", **options)

    def rules(self, **options: Any) -> pd.DataFrame:
        """Every rule; see :meth:`frame`."""
        return self.frame("rules", **options)

    def forms(self, **options: Any) -> pd.DataFrame:
        """Every form; see :meth:`frame`."""
        return self.frame("forms", **options)

    def messages(self, **options: Any) -> pd.DataFrame:
        """Every message; see :meth:`frame`."""
        return self.frame("messages", **options)

    def notes(self, **options: Any) -> pd.DataFrame:
        """Every note; see :meth:`frame`."""
        return self.frame("notes", **options)

    def products(self, **options: Any) -> pd.DataFrame:
        """Every product; see :meth:`frame`."""
        return self.frame("products", **options)

    def purchases(self, **options: Any) -> pd.DataFrame:
        """Every purchase; see :meth:`frame`."""
        return self.frame("purchases", **options)

    def transactions(self, **options: Any) -> pd.DataFrame:
        """Every transaction; see :meth:`frame`."""
        return self.frame("transactions", **options)

    def offers(self, **options: Any) -> pd.DataFrame:
        """Every offer; see :meth:`frame`."""
        return self.frame("offers", **options)

    def tags(self, **options: Any) -> pd.DataFrame:
        """Every tag; see :meth:`frame`."""
        return self.frame("tags", **options)

    def groups(self, **options: Any) -> pd.DataFrame:
        """Every group; see :meth:`frame`."""
        return self.frame("groups", **options)

    def automations(self, **options: Any) -> pd.DataFrame:
        """Every Campaign Builder item (automation); see :meth:`frame`."""
        return self.frame("automations", **options)

    campaigns = automations

    # -- single records --------------------------------------------------------------------
    def get(self, object_type: ObjectLike, id: int | str) -> pd.Series:
        """One record as a typed Series.

        Raises
        ------
        NotFoundError
            If there is no record with that id.
        """
        from .schema import frame_from_records

        otype = self.session.resolve(object_type)
        path, params = otype.route(many=False)
        data = self.session.data("GET", path, params={**params, "id": str(id)})
        if not data:
            raise NotFoundError(f"No {otype.label} with id {id}.", status=404, method="GET", path=path)
        schema = self.session.schema(otype)
        lookups = self.session.lookups(otype)
        frame = frame_from_records([data], schema, id_field=otype.id_field, lookups=lookups)
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
    ) -> Plan:
        """What pushing ``edited`` would write, checked and ready to apply; nothing is sent.

        Parameters
        ----------
        edited : pandas.DataFrame
            A frame loaded by this client, edited with pandas. Rows with an empty (NA)
            index, or a label that is not a positive integer, are created.
        original : pandas.DataFrame, optional
            The frame as loaded (default: this client's snapshot of the load).
        object_type : str or int, optional
            Needed only when the frame's ``attrs`` do not say.
        delete_missing : bool
            Delete records whose rows were removed from the frame.
        on_null : {"clear", "skip"}
            A cell changed to NA clears the field (``"clear"``) or keeps the stored value.
        on_conflict : {"skip", "overwrite"}
            Records modified in Ontraport since the load are reported as conflicts and
            left alone, or overwritten.
        journal_dir : str, optional
            Folder for the push journal.

        Returns
        -------
        Plan
            Renders as a diff in Jupyter; ``plan.apply()`` sends it.

        Raises
        ------
        ValidationError
            Every problem at once (row, column, value): unknown or read-only columns,
            duplicate or changed ids, values that do not fit, unknown dropdown labels,
            invalid e-mails, missing required fields. Nothing is sent.
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

    def resume(self, journal: str | os.PathLike[str], *, progress: bool | None = None) -> PushResult:
        """Finish a push that stopped part-way, from its journal, without sending anything twice."""
        from .writer import resume

        return resume(self, journal, progress=progress)

    def undo(self, journal: str | os.PathLike[str], *, progress: bool | None = None) -> PushResult:
        """Restore the before-images of what a push applied, from its journal."""
        from .writer import undo

        return undo(self, journal, progress=progress)


from . import accessor as _accessor  # noqa: E402,F401  (registers df.ontraport)

"""The whole account as a dataset: Parquet files, a manifest of relations, and SQL over them.

``op.snapshot("crm/")`` writes every object type the account has as one Parquet file
(``crm/contacts.parquet``, …) and ``crm/manifest.json``:

* **typed**: the frames are the typed frames of the accessors (``Int64`` ids as the
  ``id`` column, ``string``, ``boolean``, UTC datetimes, categoricals with *all* their
  option labels, tag and list columns as Parquet lists of strings). :func:`read_snapshot`
  reads a table back with exactly the dtypes of a load (categories from the manifest,
  list cells as Python lists, the id as the index);
* **relations described**: for every field that points at another type (a parent field
  such as ``deals.primary_contact`` -> ``contacts.id``, or a tag/sequence/campaign column
  holding names -> ``tags.tag_name``) the manifest says which table and column it joins;
  each column's label, Ontraport type and pandas dtype are listed too;
* **incremental**: every type is loaded through the record cache (``cache=True``), so a
  later call fetches only the records modified since, plus a check for deleted ones; a
  table whose content did not change (same Parquet bytes, compared by SHA-256) is not
  rewritten. Files are written to a temporary name and moved into place, the manifest
  last, so a crash leaves the previous snapshot readable.

:func:`sql` runs DuckDB over a snapshot: every table of the manifest is a view named after
its type (``select count(*) from contacts where list_contains(contact_cat, 'Yoga')``).

The manifest names the connection (never a key or token). A type that cannot be loaded
(an account without permission for it) is listed with its error and a warning; the other
tables are still written.

Needs the ``snapshot`` extra (``pip install "ontraport-pandas[snapshot]"``: pyarrow and
duckdb); the error of a missing one says so.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import ConfigurationError, OntraportError, OntraportWarning, QueryError
from .loader import load_frame
from .schema import FieldSpec

if TYPE_CHECKING:
    from .client import Ontraport

__all__ = ["MANIFEST", "read_manifest", "read_snapshot", "sql", "write_snapshot"]

MANIFEST = "manifest.json"
FORMAT = 1
_EXTRA = 'pip install "ontraport-pandas[snapshot]"'
#: The column a subscription field's names are found in, by the type the names come from.
_NAME_COLUMNS = {14: "tag_name"}


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ImportError(f"snapshots are written as Parquet with pyarrow: {_EXTRA}") from exc
    return pa, pq


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError as exc:
        raise ImportError(f"op.sql queries a snapshot with DuckDB: {_EXTRA}") from exc
    return duckdb


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _relations(op: Ontraport, schema: Any, names: dict[int, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for key, spec in schema.fields.items():
        if spec.kind == "parent" and spec.parent_object is not None:
            target = names.get(spec.parent_object)
            out.append(
                {
                    "column": key,
                    "label": spec.label,
                    "kind": "many_to_one",
                    "to": target,
                    "to_object_type_id": spec.parent_object,
                    "to_column": "id",
                    "in_snapshot": target is not None,
                }
            )
        elif spec.kind == "subscription" and spec.sub_model is not None:
            target = names.get(spec.sub_model)
            out.append(
                {
                    "column": key,
                    "label": spec.label,
                    "kind": "names",
                    "to": target,
                    "to_object_type_id": spec.sub_model,
                    "to_column": _NAME_COLUMNS.get(spec.sub_model, "name"),
                    "in_snapshot": target is not None,
                }
            )
    return out


def _columns(frame: pd.DataFrame, schema: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in frame.columns:
        spec = schema.fields.get(col)
        entry: dict[str, Any] = {
            "label": spec.label if spec is not None else col,
            "type": spec.type if spec is not None else None,
            "dtype": str(frame[col].dtype),
        }
        if isinstance(frame[col].dtype, pd.CategoricalDtype):
            entry["dtype"] = "category"
            entry["categories"] = [str(c) for c in frame[col].cat.categories]
        elif spec is not None and spec.kind in ("list", "subscription"):
            entry["dtype"] = "list"
        out[str(col)] = entry
    return out


def _table(frame: pd.DataFrame, list_columns: Sequence[str]) -> Any:
    """The frame as an Arrow table: the id index as an ``id`` column, list cells as lists of strings."""
    pa, _ = _pyarrow()
    flat = frame.reset_index()
    flat.columns = [str(c) for c in flat.columns]
    for col in list_columns:
        flat[col] = [
            None if not isinstance(v, (list, tuple, np.ndarray)) else [str(x) for x in v] for v in flat[col]
        ]
    schema_fields = []
    for col in flat.columns:
        if col in list_columns:
            schema_fields.append(pa.field(col, pa.list_(pa.string())))
        else:
            schema_fields.append(None)
    table = pa.Table.from_pandas(flat, preserve_index=False)
    for i, fld in enumerate(schema_fields):
        if fld is not None and table.schema.field(i).type != fld.type:
            table = table.set_column(i, fld, table.column(i).cast(fld.type))
    return table


def _parquet_bytes(table: Any) -> bytes:
    _, pq = _pyarrow()
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of the snapshot in ``path``.

    Raises
    ------
    ConfigurationError
        When there is no snapshot there, or its manifest is damaged.
    """
    file = Path(path) / MANIFEST
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(
            f"no snapshot in {str(path)!r}: write one with op.snapshot({str(path)!r})"
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"the snapshot manifest {str(file)!r} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("tables"), dict):
        raise ConfigurationError(f"the snapshot manifest {str(file)!r} is damaged (no 'tables')")
    if manifest.get("format", 0) > FORMAT:
        raise ConfigurationError(
            f"the snapshot in {str(path)!r} was written by a newer ontraport-pandas (format "
            f"{manifest.get('format')}); upgrade to read it"
        )
    return manifest


def write_snapshot(
    op: Ontraport,
    path: str | os.PathLike[str],
    *,
    types: Sequence[Any] | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Write (or bring up to date) the snapshot in ``path``; see the module docstring.

    Returns
    -------
    pandas.DataFrame
        One row per type: ``rows``, ``status`` (``written``, ``unchanged`` or ``failed``),
        ``file``, ``requests`` (API requests it took), ``error``.
    """
    _pyarrow()
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    try:
        previous = read_manifest(root)
    except ConfigurationError:
        if (root / MANIFEST).exists():
            raise
        previous = {"tables": {}}
    catalog = op.session.catalog
    names = {t.id: t.name for t in catalog}
    if types is None:
        wanted = list(op.objects()["name"])
    else:
        wanted = [op.session.resolve(t).name for t in types]
    tables: dict[str, Any] = dict(previous.get("tables", {})) if types is not None else {}
    rows: list[dict[str, Any]] = []
    for name in wanted:
        otype = op.session.resolve(name)
        sent = op.session.requests_sent
        try:
            schema = op.session.schema(otype)
            frame = load_frame(op.session, otype, cache=op.record_cache(), progress=progress)
        except OntraportError as exc:
            warnings.warn(f"snapshot: {name} was not written: {exc}", OntraportWarning, stacklevel=3)
            rows.append({"type": name, "rows": None, "status": "failed", "file": None, "error": str(exc)})
            if name in previous.get("tables", {}):
                tables[name] = previous["tables"][name]
            continue
        lists = [
            c
            for c in frame.columns
            if (s := schema.fields.get(c)) is not None and s.kind in ("list", "subscription")
        ]
        data = _parquet_bytes(_table(frame, lists))
        digest = hashlib.sha256(data).hexdigest()
        file = f"{name}.parquet"
        old = previous.get("tables", {}).get(name)
        unchanged = bool(old and old.get("sha256") == digest and (root / file).exists())
        if not unchanged:
            _write_atomic(root / file, data)
        tables[name] = {
            "file": file,
            "object_type_id": otype.id,
            "label": otype.label,
            "id_field": otype.id_field,
            "rows": len(frame),
            "sha256": digest,
            "written_at": old["written_at"] if unchanged and old else _now(),
            "columns": _columns(frame, schema),
            "relations": _relations(op, schema, names),
        }
        rows.append(
            {
                "type": name,
                "rows": len(frame),
                "status": "unchanged" if unchanged else "written",
                "file": str(root / file),
                "requests": op.session.requests_sent - sent,
                "error": None,
            }
        )
    manifest = {
        "format": FORMAT,
        "connection": op.name,
        "live": op.live,
        "updated_at": _now(),
        "tables": tables,
    }
    _write_atomic(root / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8"))
    out = pd.DataFrame(rows, columns=["type", "rows", "status", "file", "requests", "error"])
    out["rows"] = out["rows"].astype("Int64")
    out["requests"] = out["requests"].astype("Int64")
    return out.set_index("type")


def read_snapshot(path: str | os.PathLike[str], object_type: str) -> pd.DataFrame:
    """One table of a snapshot, typed exactly like the frame the accessor loaded.

    Raises
    ------
    ConfigurationError
        When there is no snapshot in ``path``, it has no such table, or the file is damaged.
    """
    _, pq = _pyarrow()
    manifest = read_manifest(path)
    entry = manifest["tables"].get(object_type)
    if entry is None:
        have = ", ".join(sorted(manifest["tables"]))
        raise ConfigurationError(
            f"the snapshot in {str(path)!r} has no table {object_type!r} (it has: {have})"
        )
    file = Path(path) / entry["file"]
    try:
        frame = pq.read_table(file).to_pandas()
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise ConfigurationError(f"the snapshot table {str(file)!r} cannot be read: {exc}") from exc
    for col, meta in entry.get("columns", {}).items():
        if col not in frame.columns:
            continue
        if meta.get("dtype") == "list":
            frame[col] = pd.Series(
                [
                    list(v) if v is not None and not (isinstance(v, float) and v != v) else []
                    for v in frame[col]
                ],
                index=frame.index,
                dtype=object,
            )
        elif meta.get("dtype") == "string":  # Parquet gives pandas' default storage: the load's text dtype
            frame[col] = frame[col].astype(FieldSpec(col, col, "text").dtype)
        elif meta.get("dtype") == "category":
            frame[col] = pd.Categorical(frame[col].astype(object), categories=meta.get("categories", []))
    frame = frame.set_index("id")
    frame.index = frame.index.astype("Int64")
    frame.index.name = "id"
    frame.attrs["ontraport"] = {
        "object_type": object_type,
        "object_type_id": entry.get("object_type_id"),
        "connection": manifest.get("connection"),
        "snapshot": str(path),
        "snapshot_written_at": entry.get("written_at"),
    }
    return frame


def sql(query: str, path: str | os.PathLike[str]) -> pd.DataFrame:
    """Run ``query`` with DuckDB over the snapshot in ``path`` (each table a view named after its type).

    Raises
    ------
    QueryError
        When DuckDB refuses the query (syntax, unknown table or column), with its message.
    ConfigurationError
        When there is no snapshot in ``path``.
    """
    duckdb = _duckdb()
    if not isinstance(query, str) or not query.strip():
        raise QueryError("op.sql() takes a SQL query, e.g. op.sql('select count(*) from contacts')")
    manifest = read_manifest(path)
    con = duckdb.connect(database=":memory:")
    try:
        for name, entry in manifest["tables"].items():
            file = (Path(path) / entry["file"]).resolve()
            literal = str(file).replace("'", "''")
            con.execute(f"create view \"{name}\" as select * from read_parquet('{literal}')")
        try:
            return con.execute(query).df()
        except duckdb.Error as exc:
            raise QueryError(f"op.sql: {exc}") from exc
    finally:
        con.close()

"""The whole account as a dataset: op.snapshot writes typed Parquet with a manifest; op.sql queries it."""

from __future__ import annotations

import json
import os
import sys

import pandas as pd
import pytest

import ontraport_pandas as opd

pytest.importorskip("pyarrow")
pytest.importorskip("duckdb")


def test_every_type_is_written_typed_and_reads_back_as_loaded(op, tmp_path):
    out = op.snapshot(tmp_path / "crm", progress=False)
    names = list(op.objects()["name"])
    assert list(out.index) == names
    assert set(out["status"]) == {"written"}
    for name in names:
        loaded = op.frame(name, progress=False)
        back = opd.read_snapshot(tmp_path / "crm", name)
        pd.testing.assert_frame_equal(back, loaded, check_dtype=True, obj=name)
        assert out.at[name, "rows"] == len(loaded)
    contacts = opd.read_snapshot(tmp_path / "crm", "contacts")
    assert isinstance(contacts["contact_cat"].iloc[0], list)
    fields = op.fields("contacts")
    drop = next(k for k, t in fields["type"].items() if t == "drop")
    # every option label is kept, the unused ones too
    assert list(contacts[drop].cat.categories) == list(op.contacts(progress=False)[drop].cat.categories)


def test_the_manifest_describes_columns_and_relations_and_holds_no_secret(served_op, tmp_path):
    from ontraport_pandas.sandbox import DEMO_API_KEY

    served_op.snapshot(tmp_path, types=["contacts", "deals", "tags"], progress=False)
    text = (tmp_path / "manifest.json").read_text()
    assert DEMO_API_KEY not in text
    manifest = json.loads(text)
    assert set(manifest["tables"]) == {"contacts", "deals", "tags"}
    deals = manifest["tables"]["deals"]
    rel = {r["column"]: r for r in deals["relations"]}
    assert (rel["primary_contact"]["to"], rel["primary_contact"]["to_column"]) == ("contacts", "id")
    assert rel["primary_contact"]["kind"] == "many_to_one"
    tags = {r["column"]: r for r in manifest["tables"]["contacts"]["relations"]}["contact_cat"]
    assert (tags["to"], tags["to_column"], tags["kind"]) == ("tags", "tag_name", "names")
    col = manifest["tables"]["contacts"]["columns"]["firstname"]
    assert col["label"] and col["dtype"] == "string"


def test_later_snapshots_are_incremental(op, tmp_path):
    first = op.snapshot(tmp_path, progress=False)
    stamps = {f: os.stat(tmp_path / f).st_mtime_ns for f in os.listdir(tmp_path)}
    again = op.snapshot(tmp_path, progress=False)
    assert set(again["status"]) == {"unchanged"}
    assert again.at["contacts", "requests"] < first.at["contacts", "requests"]
    c = op.contacts(progress=False)
    rid, gone = int(c.index[3]), int(c.index[7])
    edited = c.drop(index=gone)
    edited.at[rid, "firstname"] = "Snapshotted"
    plan = op.plan(edited, delete_missing=True)
    plan.apply(confirm=plan.confirm_required).raise_for_errors()
    third = op.snapshot(tmp_path, progress=False)
    assert third.at["contacts", "status"] == "written"
    assert (third.drop(index="contacts")["status"] == "unchanged").all()
    for name in third.index.drop("contacts"):
        file = f"{name}.parquet"
        assert os.stat(tmp_path / file).st_mtime_ns == stamps[file], name
    back = opd.read_snapshot(tmp_path, "contacts")
    assert back.at[rid, "firstname"] == "Snapshotted"
    assert gone not in back.index
    pd.testing.assert_frame_equal(back, op.contacts(progress=False))
    assert not [f for f in os.listdir(tmp_path) if ".tmp-" in f]


def test_sql_queries_the_snapshot_with_relations(op, tmp_path):
    op.snapshot(tmp_path, progress=False)
    contacts = op.contacts(progress=False)
    deals = op.deals(progress=False)
    tag = op.tags(progress=False)["tag_name"].dropna().iloc[0]
    n = op.sql(f"select count(*) as n from contacts where list_contains(contact_cat, '{tag}')")["n"].iloc[0]
    assert n == int(contacts["contact_cat"].map(lambda t: tag in t).sum())
    joined = op.sql(
        "select d.id, c.email from deals d join contacts c on d.primary_contact = c.id order by d.id"
    )
    expected = deals[["primary_contact"]].dropna().join(contacts["email"], on="primary_contact", how="inner")
    assert joined["id"].tolist() == expected.index.tolist()
    assert joined["email"].fillna("").tolist() == expected["email"].fillna("").tolist()
    other = opd.connect("sandbox", contacts=10, rate_limit=None)
    try:
        assert other.sql("select count(*) as n from deals", path=tmp_path)["n"].iloc[0] == len(deals)
    finally:
        other.close()


def test_sql_and_read_errors_are_library_errors(op, tmp_path):
    with pytest.raises(opd.ConfigurationError, match="no snapshot to query"):
        op.sql("select 1")
    with pytest.raises(opd.ConfigurationError, match="no snapshot in"):
        op.sql("select 1", path=tmp_path / "nowhere")
    op.snapshot(tmp_path, types=["tags"], progress=False)
    with pytest.raises(opd.QueryError, match="no_such_table"):
        op.sql("select * from no_such_table")
    with pytest.raises(opd.QueryError):
        op.sql("   ")
    with pytest.raises(opd.ConfigurationError, match="no table 'contacts'"):
        opd.read_snapshot(tmp_path, "contacts")
    (tmp_path / "tags.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(opd.ConfigurationError, match="cannot be read"):
        opd.read_snapshot(tmp_path, "tags")
    (tmp_path / "manifest.json").write_text("{torn")
    with pytest.raises(opd.ConfigurationError, match="cannot be read"):
        op.sql("select 1")
    with pytest.raises(opd.ConfigurationError, match="cannot be read"):
        op.snapshot(tmp_path, progress=False)  # a damaged manifest is not silently replaced


def test_a_missing_extra_is_named(op, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=r"ontraport-pandas\[snapshot\]"):
        op.snapshot(tmp_path)
    assert not (tmp_path / "manifest.json").exists()
    monkeypatch.delitem(sys.modules, "pyarrow")
    monkeypatch.setitem(sys.modules, "duckdb", None)
    with pytest.raises(ImportError, match=r"ontraport-pandas\[snapshot\]"):
        op.sql("select 1", path=tmp_path)


def test_a_frame_still_gives_its_load_snapshot(op):
    c = op.contacts(progress=False)
    assert op.snapshot(c) is not None and op.snapshot(c).equals(c)
    assert op.snapshot(pd.DataFrame({"a": [1]})) is None

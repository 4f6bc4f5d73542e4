"""FrameBuilder: typing records batch by batch gives the frame that typing them all at once gives."""

from __future__ import annotations

import random
from typing import Any

import pandas as pd
import pytest

from ontraport_pandas.errors import SchemaError
from ontraport_pandas.schema import FrameBuilder, frame_from_records, parse_meta
from tests.test_schema import LOOKUPS, META

SCHEMA = parse_meta(META)[0]


def _records(n: int, seed: int) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    recs = []
    for i in range(n):
        r: dict[str, Any] = {
            "id": str(i + 1),
            "firstname": rnd.choice(["Ann", "", None, "Zoë", " padded "]),
            "bulk_mail": rnd.choice(["0", "1", "", None, "7"]),
            "spent": rnd.choice(["0.00", "", "12.50", None]),
            "date": rnd.choice(["0", "", None, "1700000000"]),
            "f1301": rnd.choice(["0", "1", None, ""]),
            "f1001": rnd.choice(["0", "1", "2", "", None]),
            "f1002": rnd.choice(["", "*/*10*/*", "*/*11*/*12*/*", None]),
            "contact_cat": rnd.choice(["", "*/*5*/*8*/*", "*/*"]),
            "owner": rnd.choice(["0", "3", ""]),
        }
        recs.append(r)
    return recs


def _batched(recs: list[dict[str, Any]], sizes: list[int], merge: bool = False, **kw: Any) -> pd.DataFrame:
    builder = FrameBuilder(SCHEMA, lookups=LOOKUPS, **kw)
    pos = 0
    for size in sizes:
        builder.add(recs[pos : pos + size])
        if merge:  # as a load does while it waits for the next page
            builder.merge_tail()
        pos += size
    builder.add(recs[pos:])
    assert len(builder) == len(recs)
    return builder.frame()


def _same(recs: list[dict[str, Any]], sizes: list[int], **kw: Any) -> pd.DataFrame:
    whole = frame_from_records(recs, SCHEMA, lookups=LOOKUPS, **kw)
    for merge in (False, True):
        got = _batched(recs, sizes, merge=merge, **kw)
        pd.testing.assert_frame_equal(got, whole, check_exact=True)
        assert list(got.dtypes) == list(whole.dtypes)
        for col in got.columns:
            if isinstance(got[col].dtype, pd.CategoricalDtype):
                assert list(got[col].cat.categories) == list(whole[col].cat.categories)
    return got


@pytest.mark.parametrize("sizes", [[1], [7, 13], [50] * 5, [0, 0, 299], [10] * 29, [3, 40, 1, 1, 1, 90]])
def test_batches_equal_one_pass(sizes):
    _same(_records(300, 1), sizes)


def test_unknown_option_ids_keep_their_first_appearance_order():
    recs = _records(60, 2)
    recs[45]["f1001"] = "99"  # unknown ids in later batches, in this order
    recs[50]["f1001"] = "77"
    recs[10]["f1001"] = "88"
    got = _same(recs, [20, 20])
    assert list(got.f1001.cat.categories)[-3:] == ["88", "99", "77"]


def test_a_decimal_in_one_batch_makes_the_whole_column_float():
    recs = _records(60, 3)
    recs[55]["bulk_mail"] = "2.5"
    got = _same(recs, [20, 20])
    assert got.bulk_mail.dtype == pd.Float64Dtype()
    # a huge integer in one batch and a careful-path cell ("3.0") in another: Float64, as at once
    recs[55]["bulk_mail"] = "3.0"
    recs[5]["bulk_mail"] = str(2**60 + 1)
    assert _same(recs, [20, 20]).bulk_mail.dtype == pd.Float64Dtype()
    recs[55]["bulk_mail"] = "3"
    assert _same(recs, [20, 20]).bulk_mail.dtype == pd.Int64Dtype()


def test_keys_missing_from_a_batch_and_unknown_keys_appearing_later():
    recs = _records(60, 4)
    for r in recs[:30]:
        del r["spent"], r["f1001"], r["f1002"]
    recs[40]["zz_new"] = "x"
    recs[35]["aa_new"] = "y"
    got = _same(recs, [20, 20])
    assert list(got.columns[-2:]) == ["aa_new", "zz_new"]
    # a key absent from a record is a JSON null: NA, never a bad number
    assert got.spent.iloc[:30].isna().all() and got.f1001.iloc[:30].isna().all()
    assert got.zz_new.isna().sum() == 59 and got.zz_new.dtype == pd.StringDtype("python")
    _same(recs, [20, 20], columns=["f1002", "firstname", "nothere"])


def test_no_records():
    _same([], [])
    _same([], [], columns=["firstname", "bulk_mail"])


def test_bad_cells_of_every_batch_are_reported_together_in_column_order():
    recs = _records(60, 5)
    recs[50]["bulk_mail"] = "abc"
    recs[3]["date"] = "soon"
    recs[2]["bulk_mail"] = "x"
    with pytest.raises(SchemaError) as whole:
        frame_from_records(recs, SCHEMA, lookups=LOOKUPS)
    for merge in (False, True):
        with pytest.raises(SchemaError) as batched:
            _batched(recs, [20, 10, 10], merge=merge)
        assert str(batched.value) == str(whole.value)
    problems = batched.value.problems  # type: ignore[attr-defined]
    assert [(p.row, p.column, p.value) for p in problems] == [
        (3, "bulk_mail", "x"),
        (51, "bulk_mail", "abc"),
        (4, "date", "soon"),
    ]


def test_list_cells_are_not_shared_between_batches():
    recs = _records(40, 6)
    got = _batched(recs, [10])
    lists = got.f1002.tolist()
    assert len({id(v) for v in lists}) == len(lists)

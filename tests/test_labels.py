"""labels=True names columns by their Ontraport labels, and such a frame still plans and pushes."""

from __future__ import annotations

import pandas as pd

from ontraport_pandas.schema import label_names


def test_columns_are_named_by_label_and_a_labelled_frame_pushes(op):
    fields = op.fields("contacts")
    plain = op.contacts(progress=False)
    named = op.contacts(labels=True, progress=False)
    first = fields.at["firstname", "label"]
    assert first in named.columns and "firstname" not in named.columns
    assert len(set(named.columns)) == len(named.columns) == len(plain.columns)
    custom = next(k for k in plain.columns if k.startswith("f1") and fields.at[k, "editable"])
    assert (
        fields.at[custom, "label"] in named.columns
        or f"{fields.at[custom, 'label']} ({custom})" in named.columns
    )
    # same values, same dtypes, column for column
    pd.testing.assert_frame_equal(named.set_axis(plain.columns, axis=1), plain)
    rid = int(named.index[2])
    edited = named.copy()
    edited.at[rid, first] = "Labelled"
    plan = op.plan(edited)
    assert [(o.kind, o.record_id, o.fields) for o in plan.ops] == [("update", rid, {"firstname": "Labelled"})]
    plan.apply().raise_for_errors()
    assert op.contact(rid)["firstname"] == "Labelled"
    assert op.plan(named).empty


def test_shared_labels_get_their_keys(op):
    schema = op.session.schema("contacts")
    cols = list(schema.fields)[:5]
    names = label_names(schema, cols)
    assert len(set(names.values())) == len(cols)
    twice = {"a": "Same", "b": "Same"}

    class Spec:
        def __init__(self, label: str) -> None:
            self.label = label

    class Schema:
        fields = {k: Spec(v) for k, v in twice.items()}

    assert label_names(Schema(), ["a", "b", "x"]) == {"a": "Same (a)", "b": "Same (b)", "x": "x"}  # type: ignore[arg-type]

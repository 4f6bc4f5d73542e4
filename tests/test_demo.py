"""``ontraport-pandas demo``: the main job end to end on a small sandbox."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest

import ontraport_pandas as opd
from ontraport_pandas.cli import main
from ontraport_pandas.demo import DUPLICATE_TAG, cleanup_contacts

CHARTS = {
    "contact_growth",
    "tag_distribution",
    "subscription_health",
    "deal_pipeline",
    "revenue_by_month",
    "task_status",
    "overdue_tasks",
    "product_sales",
    "product_revenue_by_month",
    "cohorts",
    "lifetime_value",
}


@pytest.mark.slow
def test_demo_command_loads_cleans_and_writes_the_report(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--contacts", "200"]) == 0
    printed = capsys.readouterr().out
    for name in ("contacts", "deals", "transactions", "automations"):
        assert f"\n{name:<14}" in printed
    assert "Plan [SANDBOX]:" in printed and "Applied:" in printed and "failed" not in printed
    assert str(out / "report.ipynb") in printed
    assert {p.stem for p in (out / "charts").glob("*.png")} == CHARTS
    for png in (out / "charts").glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert str(png) in printed
    # The report notebook ran against the cleaned sandbox (kept in the output folder).
    nb = nbformat.read(out / "report.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) == len(CHARTS)
    assert (out / "summary.csv").exists()
    with opd.connect("sandbox", path=str(out / "sandbox.sqlite")) as op:
        contacts = op.contacts(progress=False)
    tagged = contacts["contact_cat"].map(lambda tags: DUPLICATE_TAG in tags)
    assert tagged.sum() > 0
    names = contacts["firstname"].dropna().str.strip()
    assert not ((names.str.len() > 1) & (names.str.isupper() | names.str.islower())).any()


def test_cleanup_contacts_does_not_change_its_input():
    frame = pd.DataFrame(
        {
            "firstname": pd.array(["JOHN", "mary ", "McDonald", None], dtype="string"),
            "lastname": pd.array(["smith", "Jones", "O'Neil", None], dtype="string"),
            "email": pd.array(["a@x.com", " A@X.com", "b@x.com", None], dtype="string"),
            "office_phone": pd.array(
                ["555.123.4567", "+1 555 123 4567", "0477 576 509", None], dtype="string"
            ),
            "home_phone": pd.array([None, None, None, None], dtype="string"),
            "country": pd.array(["US", "CA", "AU", "US"], dtype="string"),
            "contact_cat": [[], ["Lead"], [], []],
        },
        index=pd.Index([1, 2, 3, 4], name="id"),
    )
    before = frame.copy(deep=True)
    edited, stats = cleanup_contacts(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert list(edited["firstname"].fillna("-")) == ["John", "Mary", "McDonald", "-"]
    assert list(edited["lastname"].fillna("-")) == ["Smith", "Jones", "O'Neil", "-"]
    assert list(edited["office_phone"].fillna("-")) == [
        "(555) 123-4567",
        "(555) 123-4567",
        "0477 576 509",
        "-",
    ]
    assert list(edited["email"].fillna("-")) == ["a@x.com", "A@X.com", "b@x.com", "-"]
    assert edited.loc[1, "contact_cat"] == [DUPLICATE_TAG]
    assert edited.loc[2, "contact_cat"] == [DUPLICATE_TAG, "Lead"]
    assert stats["duplicate e-mails tagged"] == 2 and stats["firstname case"] == 2

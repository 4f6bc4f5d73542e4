"""The charts of ontraport_pandas.reports, drawn from sandbox frames on the Agg backend."""

from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.dates import ConciseDateFormatter  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import ontraport_pandas as opd  # noqa: E402
from ontraport_pandas import reports  # noqa: E402

NOW = pd.Timestamp("2026-11-01", tz="UTC")
OBJECTS = ("contacts", "deals", "tasks", "transactions", "purchases", "products")


@pytest.fixture(scope="module")
def client():
    op = opd.connect("sandbox", contacts=300, rate_limit=None)
    yield op
    op.close()


@pytest.fixture(scope="module")
def frames(client):
    return {name: client.frame(name, progress=False) for name in OBJECTS}


@pytest.fixture(autouse=True)
def no_leaks():
    """No chart may open a pyplot figure, change the current one, or change rcParams."""
    before = plt.get_fignums()
    params = dict(matplotlib.rcParams)
    yield
    assert plt.get_fignums() == before
    assert dict(matplotlib.rcParams) == params


def _labelled(ax):
    assert ax.get_title()
    assert ax.get_xlabel()
    assert ax.get_ylabel()
    assert isinstance(ax.figure, Figure)


def _tick_texts(axis):
    axis.figure.canvas.draw()
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


def test_contact_growth_stacks_one_series_per_lead_source(frames):
    contacts = frames["contacts"]
    ax = reports.contact_growth(contacts, by="month", top=4)
    _labelled(ax)
    assert ax.get_title() == "New contacts per month"
    months = contacts["date"].dt.tz_convert(None).dt.to_period("M").nunique()
    source = contacts["f1009"]  # the sandbox's custom "Lead Source" dropdown, found by its label
    groups = min(4, source.nunique()) + (source.nunique() > 4) + bool(source.isna().any())
    assert len(ax.containers) == groups
    assert all(len(c) == months for c in ax.containers)
    assert ax.get_legend().get_title().get_text() == "Lead Source"
    heights = sum(np.array([p.get_height() for p in c]) for c in ax.containers)
    assert heights.sum() == len(contacts)
    assert isinstance(ax.xaxis.get_major_formatter(), ConciseDateFormatter)


def test_contact_growth_without_split_draws_one_series(frames):
    ax = reports.contact_growth(frames["contacts"], by="quarter", split=None)
    assert len(ax.containers) == 1
    assert sum(p.get_height() for p in ax.patches) == len(frames["contacts"])
    with pytest.raises(ValueError, match="by= must be one of"):
        reports.contact_growth(frames["contacts"], by="fortnight")  # type: ignore[arg-type]


def test_tag_distribution_has_one_bar_per_top_tag(frames):
    contacts = frames["contacts"]
    counts = contacts["contact_cat"].explode().dropna().value_counts()
    ax = reports.tag_distribution(contacts, top=8)
    _labelled(ax)
    assert len(ax.patches) == min(8, len(counts))
    shown = [t.get_text() for t in ax.get_yticklabels()]
    assert shown[::-1] == list(counts.index[:8])  # the most used tag on top
    assert [p.get_width() for p in ax.patches][::-1] == list(counts.iloc[:8])


def test_subscription_health_counts_every_state(frames):
    contacts = frames["contacts"]
    ax = reports.subscription_health(contacts)
    _labelled(ax)
    states = contacts["bulk_mail"].astype(object).fillna("(not set)").value_counts()
    assert len(ax.patches) == len(states)
    widths = dict(
        zip([t.get_text() for t in ax.get_yticklabels()], [p.get_width() for p in ax.patches], strict=True)
    )
    assert widths == states.to_dict()


def test_deal_pipeline_has_value_and_weighted_bars_per_stage(frames):
    deals = frames["deals"]
    ax = reports.deal_pipeline(deals)
    _labelled(ax)
    stages = deals["sales_stage"].dropna().unique()
    assert [c.get_label() for c in ax.containers] == ["Value", "Weighted value"]
    assert all(len(c) == len(stages) for c in ax.containers)
    total = sum(p.get_width() for p in ax.containers[0])
    assert total == pytest.approx(float(deals.loc[deals["sales_stage"].notna(), "value"].sum()))
    assert any("$" in t for t in _tick_texts(ax.xaxis))
    table = reports.pipeline_table(deals)
    assert list(table.index) == [s for s in deals["sales_stage"].cat.categories if s in set(stages)]
    assert table["count"].sum() == len(deals)


def test_revenue_by_month_paid_up_refunded_down(frames):
    tx = frames["transactions"]
    ax = reports.revenue_by_month(tx)
    _labelled(ax)
    paid, refunded = ax.containers
    assert paid.get_label() == "Paid" and refunded.get_label() == "Refunded"
    status = tx["status"].astype(object)
    assert sum(p.get_height() for p in paid) == pytest.approx(float(tx.loc[status == "Paid", "total"].sum()))
    refunds = tx.loc[status.isin(["Refunded", "Partially refunded"]), "total"].sum()
    assert sum(p.get_height() for p in refunded) == pytest.approx(-float(refunds))
    assert [ln.get_label() for ln in ax.get_lines() if not ln.get_label().startswith("_")] == ["Net"]
    dates = tx.loc[status.isin(["Paid", "Refunded", "Partially refunded"]), "date"].dt.tz_convert(None)
    span = len(pd.period_range(dates.min().to_period("M"), dates.max().to_period("M"), freq="M"))
    assert len(paid) == span
    assert any("$" in t for t in _tick_texts(ax.yaxis))


def test_task_status_treats_status_zero_as_pending(frames):
    tasks = frames["tasks"]
    ax = reports.task_status(tasks)
    _labelled(ax)
    owners = tasks["owner"].nunique()
    labels = [c.get_label() for c in ax.containers]
    assert labels[0] == "Pending" and set(labels) <= {"Pending", "Complete", "Cancelled"}
    assert all(len(c) == owners for c in ax.containers)
    pending = sum(p.get_width() for p in ax.containers[0])
    assert pending == int(tasks["status"].isna().sum()) + int((tasks["status"] == "Pending").sum())
    assert sum(p.get_width() for p in ax.patches) == len(tasks)


def test_overdue_tasks_counts_pending_tasks_past_due(frames):
    tasks = frames["tasks"]
    ax = reports.overdue_tasks(tasks, now=NOW)
    _labelled(ax)
    pending = tasks["status"].isna() | (tasks["status"] == "Pending")
    expected = int((pending & (tasks["date_due"] < NOW)).sum())
    assert expected > 0
    assert sum(p.get_width() for p in ax.patches) == expected
    assert [c.get_label() for c in ax.containers] == ["1-7 days", "8-30 days", "over 30 days"]
    assert f"({expected:,} open past due)" in ax.get_title()
    early = reports.overdue_tasks(tasks, now="2000-01-01")
    assert len(early.patches) == 0 and "No overdue tasks" in [t.get_text() for t in early.texts]


def test_product_sales_uses_product_names_and_revenue(frames):
    purchases, products = frames["purchases"], frames["products"]
    ax = reports.product_sales(purchases, products, top=5)
    _labelled(ax)
    revenue = purchases.groupby("product_id")["total_price"].sum().sort_values(ascending=False)
    assert len(ax.patches) == min(5, len(revenue))
    names = [t.get_text() for t in ax.get_yticklabels()][::-1]
    assert names == [products.at[i, "name"] for i in revenue.index[:5]]
    assert [p.get_width() for p in ax.patches][::-1] == pytest.approx(list(revenue.iloc[:5].astype(float)))
    assert any("$" in t for t in _tick_texts(ax.xaxis))


def test_charts_draw_on_the_given_axes_and_leave_pyplot_alone(frames):
    fig, (a, b) = plt.subplots(1, 2)
    other = plt.figure()
    try:
        assert reports.deal_pipeline(frames["deals"], ax=a) is a
        assert reports.task_status(frames["tasks"], ax=b) is b
        assert plt.gcf() is other
        assert a.get_title() == "Deal pipeline by stage"
    finally:
        plt.close(fig)
        plt.close(other)


@pytest.mark.parametrize(
    ("func", "frame"),
    [
        (reports.contact_growth, "contacts"),
        (reports.tag_distribution, "contacts"),
        (reports.subscription_health, "contacts"),
        (reports.deal_pipeline, "deals"),
        (reports.revenue_by_month, "transactions"),
        (reports.task_status, "tasks"),
        (reports.overdue_tasks, "tasks"),
        (reports.product_sales, "purchases"),
    ],
)
def test_charts_of_empty_frames_say_so(frames, func, frame):
    ax = func(frames[frame].iloc[:0])
    _labelled(ax)
    assert len(ax.patches) == 0
    assert any(t.get_text().startswith("No ") for t in ax.texts)


def test_missing_column_names_the_column(frames):
    with pytest.raises(ValueError, match="sales_stage"):
        reports.deal_pipeline(frames["deals"].drop(columns="sales_stage"))


def test_report_figures_and_summary_table(frames):
    axes = reports.report_figures(**frames, now=NOW)
    assert set(axes) == {
        "contact_growth",
        "tag_distribution",
        "subscription_health",
        "deal_pipeline",
        "revenue_by_month",
        "task_status",
        "overdue_tasks",
        "product_sales",
    }
    assert len({id(ax.figure) for ax in axes.values()}) == len(axes)
    assert reports.report_figures(deals=frames["deals"]).keys() == {"deal_pipeline"}
    summary = reports.summary_table(**{k: v for k, v in frames.items() if k != "products"}, now=NOW)
    assert summary.loc[("contacts", "contacts"), "value"] == "300"
    assert summary.loc[("deals", "deals"), "value"] == f"{len(frames['deals']):,}"
    assert summary.loc[("transactions", "paid"), "value"].startswith("$")


def test_reports_without_matplotlib_names_the_extra():
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import ontraport_pandas\n"
        "try:\n"
        "    import ontraport_pandas.reports\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert 'pip install "ontraport-pandas[notebook]"' in out.stdout

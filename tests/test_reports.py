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


def test_subscription_health_says_subscription_state(frames):
    ax = reports.subscription_health(frames["contacts"])
    assert "subscription state" in ax.get_title()
    assert ax.get_ylabel() == "Subscription state"


def test_task_owners_are_named_from_the_users_object(client, frames):
    tasks = frames["tasks"]
    users = client.users(progress=False)
    names = {f"{u.firstname} {u.lastname}" for u in users.itertuples()}
    for owners in (None, users):  # found through the client that loaded the frame, or given
        ax = reports.task_status(tasks, owners=owners)
        shown = {t.get_text() for t in ax.get_yticklabels()}
        assert shown <= names | {"(unassigned)"} and shown & names
        assert not any(t.startswith(("Owner ", "User ")) for t in shown)
    table = reports.overdue_table(tasks, now=NOW)
    assert set(table.index) <= names | {"(unassigned)"}
    detached = tasks.copy()
    detached.attrs = {}
    shown = {t.get_text() for t in reports.task_status(detached).get_yticklabels()}
    assert any(t.startswith("User ") for t in shown)  # no client, no users given: ids, said plainly


def test_daily_growth_has_every_day_and_a_weekly_average(frames):
    contacts = frames["contacts"]
    recent = contacts[contacts["date"] >= contacts["date"].max() - pd.Timedelta(days=60)]
    ax = reports.contact_growth(recent, by="day")
    days = recent["date"].dt.tz_convert(None).dt.normalize()
    span = (days.max() - days.min()).days + 1
    assert len(ax.containers) == 1 and len(ax.containers[0]) == span  # empty days are zero bars
    assert sum(p.get_height() for p in ax.patches) == len(recent)
    average = next(ln for ln in ax.get_lines() if ln.get_label() == "7-day average")
    assert len(average.get_xdata()) == span


def test_monthly_growth_has_month_ticks(frames):
    ax = reports.contact_growth(frames["contacts"], by="month")
    ticks = _tick_texts(ax.xaxis)
    assert any(t in ("Jan", "Apr", "Jul", "Oct") for t in ticks)
    assert not any(t.isdigit() and len(t) <= 2 for t in ticks)  # no day numbers


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


def test_revenue_by_month_collected_up_refunded_down(frames):
    tx = frames["transactions"]
    ax = reports.revenue_by_month(tx)
    _labelled(ax)
    collected, refunded = ax.containers
    assert collected.get_label() == "Collected" and refunded.get_label() == "Refunded"
    status = tx["status"].astype(object)
    came_in = status.isin(["Paid", "Refunded", "Partially refunded"])
    assert sum(p.get_height() for p in collected) == pytest.approx(float(tx.loc[came_in, "total"].sum()))
    # the sandbox has no refunded amount for partial refunds: only full refunds are subtracted
    assert sum(p.get_height() for p in refunded) == pytest.approx(
        -float(tx.loc[status == "Refunded", "total"].sum())
    )
    net = next(ln for ln in ax.get_lines() if ln.get_label() == "Net")
    assert min(net.get_ydata()) >= 0  # a refund never takes a month below zero
    dates = tx.loc[came_in, "date"].dt.tz_convert(None)
    span = len(pd.period_range(dates.min().to_period("M"), dates.max().to_period("M"), freq="M"))
    assert len(collected) == span
    assert any("$" in t for t in _tick_texts(ax.yaxis))
    ticks = _tick_texts(ax.xaxis)
    assert "Apr" in ticks and "Jul" in ticks  # month ticks, not days or bare years
    if int((status == "Partially refunded").sum()):
        assert any("partial refund" in t.get_text() for t in ax.texts)


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


def test_product_sales_counts_paid_purchases_only(frames):
    purchases, products = frames["purchases"], frames["products"]
    ax = reports.product_sales(purchases, products, top=5)
    _labelled(ax)
    paid = purchases[(purchases["status"] == "Paid").fillna(False).to_numpy(dtype=bool)]
    assert len(paid) < len(purchases)  # the demo has unpaid and refunded sales to leave out
    revenue = paid.groupby("product_id")["total_price"].sum().sort_values(ascending=False, kind="stable")
    assert len(ax.patches) == min(5, len(revenue))
    names = [t.get_text() for t in ax.get_yticklabels()][::-1]
    assert names == [products.at[i, "name"] for i in revenue.index[:5]]
    assert [p.get_width() for p in ax.patches][::-1] == pytest.approx(list(revenue.iloc[:5].astype(float)))
    assert any("$" in t for t in _tick_texts(ax.xaxis))
    # the sandbox's own product totals add up paid sales only: the same figure
    table = reports.product_table(purchases, products)
    assert table["revenue"].sum() == pytest.approx(float(products["total_income"].sum()))
    by_tx = reports.product_table(purchases, products, transactions=frames["transactions"])
    assert by_tx["revenue"].sum() == pytest.approx(float(products["total_income"].sum()))
    with pytest.raises(ValueError, match="status"):
        reports.product_table(purchases.drop(columns="status"))


def test_product_revenue_by_month_returns_its_table(frames):
    purchases, products = frames["purchases"], frames["products"]
    report = reports.product_revenue_by_month(purchases, products, top=3)
    table, ax = report
    assert report.figure is ax.figure
    _labelled(ax)
    paid = purchases[(purchases["status"] == "Paid").fillna(False).to_numpy(dtype=bool)]
    assert table.to_numpy().sum() == pytest.approx(float(paid["total_price"].sum()))
    assert len(ax.containers) == 4  # three products and "Other"
    assert ax.containers[-1].get_label() == "Other"
    month = paid["date"].dt.tz_convert(None).dt.to_period("M").dt.start_time
    one = paid.assign(month=month).groupby(["month", "product_id"])["total_price"].sum()
    (m, pid), value = next(iter(one.items()))
    assert table.at[m, products.at[pid, "name"]] == pytest.approx(float(value))


def test_cohorts_and_lifetime_value_from_the_sandbox(frames):
    contacts, tx = frames["contacts"], frames["transactions"]
    report = reports.cohorts(contacts, tx, months=6, now=NOW)
    assert report.table["contacts"].sum() == len(contacts)
    assert len(report.ax.images) == 1
    ltv = reports.ltv_table(contacts, tx)
    assert len(ltv) == len(contacts)
    money = reports.transaction_money(tx)
    assert ltv["ltv"].sum() == pytest.approx(float(money["net"].sum()))
    seg = reports.lifetime_value(contacts, tx, segment="f1009")
    assert seg.table["contacts"].sum() == len(contacts)
    assert seg.table["ltv"].sum() == pytest.approx(float(money["net"].sum()))
    by_tag = reports.ltv_by_segment(contacts, tx, "contact_cat")
    assert by_tag["contacts"].sum() == contacts["contact_cat"].map(lambda t: max(len(t), 1)).sum()


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
        (lambda f: reports.product_revenue_by_month(f).ax, "purchases"),
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
        "product_revenue_by_month",
        "cohorts",
        "lifetime_value",
    }
    assert len({id(ax.figure) for ax in axes.values()}) == len(axes)
    assert reports.report_figures(deals=frames["deals"]).keys() == {"deal_pipeline"}
    summary = reports.summary_table(**frames, now=NOW)
    assert summary.loc[("contacts", "contacts"), "value"] == "300"
    assert summary.loc[("deals", "deals"), "value"] == f"{len(frames['deals']):,}"
    table = reports.revenue_table(frames["transactions"])
    assert summary.loc[("transactions", "net revenue"), "value"] == f"${table['net'].sum():,.0f}"
    best = reports.product_table(frames["purchases"], frames["products"]).iloc[0]
    assert summary.loc[("purchases", "best-selling product (paid revenue)"), "value"] == (
        f"{best['product']} (${best['revenue']:,.0f})"
    )


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

"""Charts for Ontraport frames (matplotlib): ``from ontraport_pandas import reports``.

Every chart function takes frames that were already loaded (it never fetches data),
draws on the ``ax`` it is given or on a new :class:`matplotlib.figure.Figure` (never
through pyplot, so no global figure is created or left open), and returns the Axes.
Nothing here calls ``plt.show()`` or changes ``rcParams``. In a notebook, show a chart
with ``reports.deal_pipeline(deals).figure``, or draw several on your own figure::

    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4))
    reports.deal_pipeline(deals, ax=a)
    reports.task_status(tasks, ax=b)

=========================  ====================================================
``contact_growth``         new contacts per period, stacked by lead source
``tag_distribution``       contacts per tag (top N)
``subscription_health``    contacts per e-mail subscription state (``bulk_mail``)
``deal_pipeline``          deals per stage: count, value, weighted value
``revenue_by_month``       paid vs refunded transaction totals per month
``task_status``            tasks per owner and status
``overdue_tasks``          open tasks past due, per owner and age
``product_sales``          revenue and units per product
``summary_table``          headline figures of every frame given, as a table
``report_figures``         every chart that the given frames allow
=========================  ====================================================

Labels shown on the charts come from the field labels of the client that loaded
the frame, when it is still open (metadata it already holds: nothing is requested).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import pandas as pd

try:
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'ontraport_pandas.reports needs matplotlib: pip install "ontraport-pandas[notebook]"'
    ) from None

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "contact_growth",
    "deal_pipeline",
    "overdue_table",
    "overdue_tasks",
    "pipeline_table",
    "product_sales",
    "product_table",
    "report_figures",
    "revenue_by_month",
    "revenue_table",
    "subscription_health",
    "summary_table",
    "tag_distribution",
    "task_status",
]

Period = Literal["day", "week", "month", "quarter", "year"]
_PERIOD_CODE = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
_BAR_DAYS = {"day": 0.8, "week": 5.5, "month": 24.0, "quarter": 75.0, "year": 300.0}

#: Colours (colour-blind friendly where it matters: good/bad are not only red/green).
_GOOD = "#2e7d32"
_BAD = "#c62828"
_WARN = "#f9a825"
_NEUTRAL = "#9e9e9e"
_BLUE = "#1565c0"
_PALETTE = (
    "#1565c0",
    "#ef6c00",
    "#2e7d32",
    "#6a1b9a",
    "#00838f",
    "#ad1457",
    "#827717",
    "#4e342e",
    "#37474f",
)
_NOT_SET = "(not set)"
_OTHER = "Other"


# ---------------------------------------------------------------------------------- helpers
def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """``ax``, or the Axes of a new pyplot-free Figure."""
    if ax is not None:
        return ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def _require(frame: pd.DataFrame, *columns: str, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{what} needs the column(s) {', '.join(missing)}; load the frame with them "
            f"(fields=[…, {', '.join(repr(c) for c in missing)}])."
        )


def _labels(frame: pd.DataFrame) -> dict[str, str]:
    """Field key -> label, from the client that loaded ``frame`` (no request is sent)."""
    info = frame.attrs.get("ontraport") or {}
    if not info.get("object_type"):
        return {}
    try:
        from .client import client_for

        client = client_for(frame)
        if client is None:
            return {}
        # The metadata was fetched when the frame was loaded; the session keeps it.
        fields = client.fields(info["object_type"])
    except Exception:  # labels are decoration: never fail a chart for them
        return {}
    return {str(k): str(v) for k, v in fields["label"].items() if isinstance(v, str) and v}


def _label(frame: pd.DataFrame, key: str) -> str:
    return _labels(frame).get(key, key)


def _money_formatter(currency: str) -> FuncFormatter:
    def fmt(x: float, _pos: object = None) -> str:
        sign = "-" if x < 0 else ""
        x = abs(x)
        if x >= 1e6:
            return f"{sign}{currency}{x / 1e6:,.1f}M"
        if x >= 1e4:
            return f"{sign}{currency}{x / 1e3:,.0f}k"
        return f"{sign}{currency}{x:,.0f}"

    return FuncFormatter(fmt)


def _money(x: float, currency: str) -> str:
    return f"{'-' if x < 0 else ''}{currency}{abs(x):,.0f}"


def _wall_naive(s: pd.Series) -> pd.Series:
    """Datetimes as naive wall-clock times of their own zone (periods and matplotlib want none).

    A column loaded with ``connect(tz="Europe/Paris")`` keeps Paris wall time, so days and months
    are bucketed locally (a sale at 00:30 on 1 March in Paris counts for March). Naive values and
    strings are taken as UTC.
    """
    if not isinstance(s.dtype, pd.DatetimeTZDtype):
        s = pd.to_datetime(s, errors="coerce", utc=True)
    return s.dt.tz_localize(None)


def _period_start(s: pd.Series, by: str) -> pd.Series:
    if by not in _PERIOD_CODE:
        raise ValueError(f"by= must be one of {', '.join(_PERIOD_CODE)}, not {by!r}")
    return _wall_naive(s).dt.to_period(_PERIOD_CODE[by]).dt.start_time


def _date_axis(ax: Axes, axis: Literal["x", "y"] = "x") -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=10)
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(locator)
    target.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _as_labels(values: pd.Series, *, not_set: str = _NOT_SET) -> pd.Series:
    """Values as display strings, with NA (and empty strings) as ``not_set``."""
    out = values.astype("object").where(values.notna(), None)
    out = out.map(lambda v: not_set if v is None or (isinstance(v, str) and not v.strip()) else str(v))
    return out.astype(object)


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=_NEUTRAL)


def _owner_labels(values: pd.Series, owners: Mapping[Any, str] | None) -> pd.Series:
    names = dict(owners or {})

    def name(v: Any) -> str:
        if v is None or pd.isna(v) or v == 0:
            return "(unassigned)"
        key = int(v) if isinstance(v, (int, np.integer, float)) else v
        return str(names.get(key, names.get(str(key), f"Owner {key}")))

    return values.astype("object").map(name)


def _sorted_owner_index(index: Iterable[str]) -> list[str]:
    def key(label: str) -> tuple[int, int, str]:
        if label == "(unassigned)":
            return (2, 0, label)
        if label.startswith("Owner ") and label[6:].isdigit():
            return (0, int(label[6:]), label)
        return (1, 0, label)

    return sorted(index, key=key)


def _task_status_labels(tasks: pd.DataFrame) -> pd.Series:
    """Task status as labels; Ontraport's pending status 0 reads as NA, shown as Pending."""
    status = tasks["status"]
    if pd.api.types.is_numeric_dtype(status) and not isinstance(status.dtype, pd.CategoricalDtype):
        mapping = {0: "Pending", 1: "Complete", 2: "Cancelled"}
        return status.map(lambda v: "Pending" if pd.isna(v) else mapping.get(int(v), str(v))).astype(object)
    return _as_labels(status, not_set="Pending")


# ---------------------------------------------------------------------------------- charts
def contact_growth(
    contacts: pd.DataFrame,
    *,
    by: Period = "month",
    split: str | None = "auto",
    top: int = 6,
    date_column: str = "date",
    ax: Axes | None = None,
) -> Axes:
    """New contacts per period, as stacked bars split by a category (lead source by default).

    Parameters
    ----------
    contacts : pandas.DataFrame
        Contacts as loaded (``op.contacts()``); needs ``date`` (the date added).
    by : {"day", "week", "month", "quarter", "year"}
        The period of one bar.
    split : str or None
        The column that splits each bar. ``"auto"`` takes the lead source: the column
        labelled "Lead Source" with values (a custom dropdown on many accounts), else
        ``n_lead_source`` when it has values, else no split. None draws one series.
    top : int
        The most frequent values of ``split`` drawn on their own; the rest are "Other".
    date_column : str
        The date to count by.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new Figure).

    Returns
    -------
    matplotlib.axes.Axes
        One bar container per series (``len(ax.containers)``).

    Examples
    --------
    >>> ax = reports.contact_growth(op.contacts(), by="quarter")
    >>> ax.get_title()
    'New contacts per quarter'
    """
    _require(contacts, date_column, what="contact_growth")
    if split == "auto":
        split = _auto_split(contacts)
    elif split is not None:
        _require(contacts, split, what="contact_growth")
    ax = _axes(ax, (10, 4.5))
    period = _period_start(contacts[date_column], by)
    ok = period.notna()
    ax.set_title(f"New contacts per {by}")
    ax.set_xlabel(_label(contacts, date_column) if date_column != "date" else "Date added")
    ax.set_ylabel("Contacts")
    if not ok.any():
        _empty(ax, "No contacts with a date")
        return ax
    if split is None:
        counts = period[ok].value_counts().sort_index()
        ax.bar(counts.index, counts.to_numpy(), width=_BAR_DAYS[by], color=_BLUE, label="Contacts")
    else:
        groups = _as_labels(contacts.loc[ok, split])
        order = [g for g in groups.value_counts().index if g != _NOT_SET]
        keep = order[:top]
        groups = groups.where(groups.isin([*keep, _NOT_SET]), _OTHER)
        table = pd.crosstab(period[ok], groups).sort_index()
        columns = [
            *keep,
            *([_OTHER] if _OTHER in table.columns else []),
            *([_NOT_SET] if _NOT_SET in table else []),
        ]
        table = table.reindex(columns=columns, fill_value=0)
        bottom = np.zeros(len(table))
        for i, col in enumerate(table.columns):
            color = (
                _NEUTRAL if col == _NOT_SET else ("#bdbdbd" if col == _OTHER else _PALETTE[i % len(_PALETTE)])
            )
            values = table[col].to_numpy()
            ax.bar(table.index, values, bottom=bottom, width=_BAR_DAYS[by], color=color, label=str(col))
            bottom = bottom + values
        ax.legend(title=_label(contacts, split), fontsize="small", title_fontsize="small", loc="upper left")
    _date_axis(ax)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", alpha=0.3)
    return ax


def _auto_split(contacts: pd.DataFrame) -> str | None:
    labels = _labels(contacts)
    candidates = [k for k, v in labels.items() if "lead source" in v.lower() and k in contacts.columns]
    candidates += [k for k in ("n_lead_source", "l_lead_source") if k in contacts.columns]
    for key in dict.fromkeys(candidates):
        col = contacts[key]
        if col.dtype == object:  # lists (tags, sequences) cannot split bars
            continue
        if col.notna().any() and 1 < col.nunique() <= 50:
            return key
    return None


def tag_distribution(
    contacts: pd.DataFrame,
    *,
    top: int = 15,
    column: str = "contact_cat",
    ax: Axes | None = None,
) -> Axes:
    """Contacts per tag, the ``top`` most used tags, as horizontal bars.

    Parameters
    ----------
    contacts : pandas.DataFrame
        Frame whose ``column`` holds a list of tag names per row (``contact_cat``).
    top : int
        How many tags to show.
    column : str
        The tag column.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per tag shown, most used at the top.
    """
    _require(contacts, column, what="tag_distribution")
    tags = contacts[column].dropna().explode().dropna()
    tags = tags[tags.astype(str).str.strip() != ""]
    counts = tags.astype(str).value_counts().head(top)
    ax = _axes(ax, (8, max(3.0, 0.32 * len(counts) + 1.2)))
    ax.set_title(f"Contacts per tag (top {top})")
    ax.set_xlabel("Contacts")
    ax.set_ylabel("Tag")
    if counts.empty:
        _empty(ax, "No tags")
        return ax
    counts = counts.iloc[::-1]
    bars = ax.barh(counts.index.astype(str), counts.to_numpy(), color=_BLUE)
    share = counts.to_numpy() / max(len(contacts), 1)
    ax.bar_label(
        bars,
        labels=[f"{n:,} ({p:.0%})" for n, p in zip(counts, share, strict=True)],
        padding=3,
        fontsize="small",
    )
    ax.margins(x=0.15)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


_SUBSCRIPTION_COLORS = {
    "opted-in": _GOOD,
    "double opt-in": "#1b5e20",
    "transactional only": _NEUTRAL,
    "hard bounce": _BAD,
    "under review": _WARN,
    "unconfirmed": _WARN,
    _NOT_SET: "#cfd8dc",
}


def subscription_health(
    contacts: pd.DataFrame,
    *,
    column: str = "bulk_mail",
    ax: Axes | None = None,
) -> Axes:
    """Contacts per e-mail subscription state (``bulk_mail``), with their share.

    Parameters
    ----------
    contacts : pandas.DataFrame
        Contacts with the ``bulk_mail`` column (``bulk_sms`` works as well).
    column : str
        The subscription column.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per state present (contacts without a state count as "(not set)").
    """
    _require(contacts, column, what="subscription_health")
    states = _as_labels(contacts[column])
    counts = states.value_counts()
    dtype = contacts[column].dtype
    if isinstance(dtype, pd.CategoricalDtype):  # the account's order of states
        order = [str(c) for c in dtype.categories if str(c) in counts.index]
        counts = counts.reindex([*order, *[i for i in counts.index if i not in order]])
    ax = _axes(ax, (8, max(3.0, 0.45 * len(counts) + 1.2)))
    label = _label(contacts, column)
    ax.set_title(f"{label if label != column else 'E-mail subscription'}: contacts per state")
    ax.set_xlabel("Contacts")
    ax.set_ylabel("State")
    if counts.empty:
        _empty(ax, "No contacts")
        return ax
    counts = counts.iloc[::-1]
    colors = [_SUBSCRIPTION_COLORS.get(str(s).lower(), _BLUE) for s in counts.index]
    bars = ax.barh(counts.index.astype(str), counts.to_numpy(), color=colors)
    total = max(int(counts.sum()), 1)
    ax.bar_label(bars, labels=[f"{n:,} ({n / total:.0%})" for n in counts], padding=3, fontsize="small")
    ax.margins(x=0.18)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def deal_pipeline(
    deals: pd.DataFrame,
    *,
    currency: str = "$",
    ax: Axes | None = None,
) -> Axes:
    """Deals per sales stage: value and weighted value as bars, the count written beside.

    Parameters
    ----------
    deals : pandas.DataFrame
        Deals as loaded (``op.deals()``): ``sales_stage``, ``value`` and
        ``weighted_value`` (or ``expected_win_percent`` to compute it).
    currency : str
        Put before money amounts.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        Two bar containers ("Value", "Weighted value") with one bar per stage each.
    """
    _require(deals, "sales_stage", "value", what="deal_pipeline")
    table = pipeline_table(deals)
    ax = _axes(ax, (9, max(3.0, 0.6 * len(table) + 1.4)))
    ax.set_title("Deal pipeline by stage")
    ax.set_xlabel(f"Deal value ({currency})")
    ax.set_ylabel(_label(deals, "sales_stage") if "sales_stage" in _labels(deals) else "Sales stage")
    if table.empty:
        _empty(ax, "No deals")
        return ax
    table = table.iloc[::-1]
    y = np.arange(len(table))
    h = 0.38
    ax.barh(y + h / 2, table["value"].to_numpy(dtype=float), height=h, color="#90caf9", label="Value")
    weighted = ax.barh(
        y - h / 2,
        table["weighted_value"].to_numpy(dtype=float),
        height=h,
        color=_BLUE,
        label="Weighted value",
    )
    ax.bar_label(
        weighted,
        labels=[f"{int(n):,} deal{'s' if n != 1 else ''}" for n in table["count"]],
        padding=3,
        fontsize="small",
    )
    ax.set_yticks(y, [str(s) for s in table.index])
    ax.xaxis.set_major_formatter(_money_formatter(currency))
    ax.margins(x=0.12)
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(axis="x", alpha=0.3)
    return ax


def pipeline_table(deals: pd.DataFrame) -> pd.DataFrame:
    """Deals per stage: ``count``, ``value``, ``weighted_value`` (stages in the account's order)."""
    _require(deals, "sales_stage", "value", what="pipeline_table")
    value = deals["value"].astype("Float64").fillna(0)
    if "weighted_value" in deals.columns and deals["weighted_value"].notna().any():
        weighted = deals["weighted_value"].astype("Float64").fillna(0)
    elif "expected_win_percent" in deals.columns:
        weighted = value * deals["expected_win_percent"].astype("Float64").fillna(0) / 100
    else:
        weighted = value
    stage = _as_labels(deals["sales_stage"])
    frame = pd.DataFrame(
        {"stage": stage, "value": value.astype(float), "weighted_value": weighted.astype(float)}
    )
    table = frame.groupby("stage", sort=False).agg(
        count=("value", "size"), value=("value", "sum"), weighted_value=("weighted_value", "sum")
    )
    dtype = deals["sales_stage"].dtype
    if isinstance(dtype, pd.CategoricalDtype):
        order = [str(c) for c in dtype.categories if str(c) in table.index]
        table = table.reindex([*order, *[i for i in table.index if i not in order]])
    table.index.name = "sales_stage"
    return table


_PAID = ("Paid",)
_REFUNDED = ("Refunded", "Partially refunded")


def revenue_by_month(
    transactions: pd.DataFrame,
    *,
    paid: Iterable[str] = _PAID,
    refunded: Iterable[str] = _REFUNDED,
    amount: str = "total",
    currency: str = "$",
    ax: Axes | None = None,
) -> Axes:
    """Transaction totals per month: paid above the axis, refunded below, and the net as a line.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Transactions as loaded (``op.transactions()``): ``date``, ``status``, ``total``.
    paid, refunded : iterable of str
        The status labels counted as paid and as refunded.
    amount : str
        The money column.
    currency : str
        Put before money amounts.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        Two bar containers ("Paid", "Refunded"), one bar per month each, and a "Net" line.
    """
    table = revenue_table(transactions, paid=paid, refunded=refunded, amount=amount)
    ax = _axes(ax, (10, 4.5))
    ax.set_title("Revenue per month: paid vs refunded")
    ax.set_xlabel("Month")
    ax.set_ylabel(f"Amount ({currency})")
    if table.empty:
        _empty(ax, "No transactions")
        return ax
    x = table.index
    ax.bar(x, table["paid"].to_numpy(dtype=float), width=_BAR_DAYS["month"], color=_GOOD, label="Paid")
    ax.bar(
        x, -table["refunded"].to_numpy(dtype=float), width=_BAR_DAYS["month"], color=_BAD, label="Refunded"
    )
    ax.plot(x, table["net"].to_numpy(dtype=float), color="black", linewidth=1.2, marker=".", label="Net")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.yaxis.set_major_formatter(_money_formatter(currency))
    _date_axis(ax)
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    return ax


def revenue_table(
    transactions: pd.DataFrame,
    *,
    paid: Iterable[str] = _PAID,
    refunded: Iterable[str] = _REFUNDED,
    amount: str = "total",
) -> pd.DataFrame:
    """Per month (first day, naive, in the dates' own time zone): ``paid``, ``refunded`` and ``net`` totals."""
    _require(transactions, "date", "status", amount, what="revenue_by_month")
    status = _as_labels(transactions["status"])
    month = _period_start(transactions["date"], "month")
    money = transactions[amount].astype("Float64").fillna(0).astype(float)
    paid_set, refunded_set = set(paid), set(refunded)
    frame = pd.DataFrame(
        {
            "month": month,
            "paid": money.where(status.isin(paid_set), 0.0),
            "refunded": money.where(status.isin(refunded_set), 0.0),
        }
    )
    frame = frame[month.notna() & status.isin(paid_set | refunded_set)]
    table = frame.groupby("month").sum().sort_index()
    if not table.empty:  # months without transactions still get a (zero) bar
        full = pd.date_range(table.index.min(), table.index.max(), freq="MS")
        table = table.reindex(full, fill_value=0.0)
    table.index.name = "month"
    table["net"] = table["paid"] - table["refunded"]
    return table


_TASK_COLORS = {"Pending": _WARN, "Complete": _GOOD, "Cancelled": _NEUTRAL}


def task_status(
    tasks: pd.DataFrame,
    *,
    owners: Mapping[Any, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Tasks per owner, stacked by status (pending, complete, cancelled).

    Parameters
    ----------
    tasks : pandas.DataFrame
        Tasks as loaded (``op.tasks()``): ``owner`` and ``status``. Ontraport stores
        the pending status as 0, which the type table reads as NA: NA counts as Pending.
    owners : mapping, optional
        Owner id -> name for the axis (default ``Owner <id>``).
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        One bar container per status, one bar per owner in each.
    """
    _require(tasks, "owner", "status", what="task_status")
    status = _task_status_labels(tasks)
    owner = _owner_labels(tasks["owner"], owners)
    table = pd.crosstab(owner, status) if len(tasks) else pd.DataFrame()
    ax = _axes(ax, (9, max(3.0, 0.45 * max(len(table), 1) + 1.4)))
    ax.set_title("Tasks by owner and status")
    ax.set_xlabel("Tasks")
    ax.set_ylabel("Owner")
    if table.empty:
        _empty(ax, "No tasks")
        return ax
    columns = [s for s in _TASK_COLORS if s in table.columns] + [
        c for c in table.columns if c not in _TASK_COLORS
    ]
    table = table.reindex(index=_sorted_owner_index(table.index)[::-1], columns=columns, fill_value=0)
    left = np.zeros(len(table))
    for i, col in enumerate(table.columns):
        values = table[col].to_numpy()
        ax.barh(
            table.index.astype(str),
            values,
            left=left,
            color=_TASK_COLORS.get(str(col), _PALETTE[i % 9]),
            label=str(col),
        )
        left = left + values
    ax.legend(
        title="Status", fontsize="small", title_fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1)
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="x", alpha=0.3)
    return ax


_AGE_BUCKETS = ((7, "1-7 days"), (30, "8-30 days"), (None, "over 30 days"))
_AGE_COLORS = ("#ffb300", "#ef6c00", _BAD)


def overdue_table(
    tasks: pd.DataFrame, *, now: Any = None, owners: Mapping[Any, str] | None = None
) -> pd.DataFrame:
    """Open tasks past due per owner (rows) and age bucket (columns)."""
    _require(tasks, "owner", "status", "date_due", what="overdue_tasks")
    now_ts = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    if now_ts.tzinfo is None:
        now_ts = now_ts.tz_localize("UTC")
    due = pd.to_datetime(tasks["date_due"], utc=True, errors="coerce")
    pending = _task_status_labels(tasks) == "Pending"
    late = pending & due.notna() & (due < now_ts)
    days = ((now_ts - due[late]).dt.total_seconds() / 86400).to_numpy()
    bucket = np.where(
        days <= 7, _AGE_BUCKETS[0][1], np.where(days <= 30, _AGE_BUCKETS[1][1], _AGE_BUCKETS[2][1])
    )
    owner = _owner_labels(tasks.loc[late, "owner"], owners)
    frame = pd.DataFrame({"owner": owner.to_numpy(), "age": bucket})
    table = (
        pd.crosstab(frame["owner"], frame["age"])
        if len(frame)
        else pd.DataFrame(columns=[b for _, b in _AGE_BUCKETS])
    )
    table = table.reindex(columns=[b for _, b in _AGE_BUCKETS], fill_value=0)
    table = table.reindex(_sorted_owner_index(table.index))
    table.index.name = "owner"
    table.columns.name = "overdue"
    return table


def overdue_tasks(
    tasks: pd.DataFrame,
    *,
    now: Any = None,
    owners: Mapping[Any, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Open (pending) tasks past their due date, per owner, stacked by how late they are.

    Parameters
    ----------
    tasks : pandas.DataFrame
        Tasks as loaded: ``owner``, ``status``, ``date_due``.
    now : datetime-like, optional
        The reference instant (default: now, UTC). Naive values are taken as UTC.
    owners : mapping, optional
        Owner id -> name.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        One bar container per age bucket (1-7 days, 8-30 days, over 30 days), one bar per owner.
    """
    table = overdue_table(tasks, now=now, owners=owners)
    ax = _axes(ax, (9, max(3.0, 0.45 * max(len(table), 1) + 1.4)))
    total = int(table.to_numpy().sum()) if len(table) else 0
    ax.set_title(f"Overdue tasks by owner ({total:,} open past due)")
    ax.set_xlabel("Overdue tasks")
    ax.set_ylabel("Owner")
    if table.empty:
        _empty(ax, "No overdue tasks")
        return ax
    table = table.iloc[::-1]
    left = np.zeros(len(table))
    for col, color in zip(table.columns, _AGE_COLORS, strict=True):
        values = table[col].to_numpy()
        ax.barh(table.index.astype(str), values, left=left, color=color, label=str(col))
        left = left + values
    ax.legend(
        title="Overdue by",
        fontsize="small",
        title_fontsize="small",
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="x", alpha=0.3)
    return ax


def product_sales(
    purchases: pd.DataFrame,
    products: pd.DataFrame | None = None,
    *,
    top: int = 10,
    currency: str = "$",
    ax: Axes | None = None,
) -> Axes:
    """Revenue per product (sum of purchase totals), the ``top`` products, with units sold.

    Parameters
    ----------
    purchases : pandas.DataFrame
        Purchases as loaded (``op.purchases()``): ``product_id``, ``total_price``
        (or ``price`` × ``quantity``), ``quantity``.
    products : pandas.DataFrame, optional
        Products (``op.products()``), for the current product names; without it the
        name stored on the purchase is used.
    top : int
        How many products to show.
    currency : str
        Put before money amounts.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per product shown.
    """
    table = product_table(purchases, products).head(top)
    ax = _axes(ax, (9, max(3.0, 0.38 * len(table) + 1.4)))
    ax.set_title(f"Product sales: revenue (top {top})")
    ax.set_xlabel(f"Revenue ({currency})")
    ax.set_ylabel("Product")
    if table.empty:
        _empty(ax, "No purchases")
        return ax
    table = table.iloc[::-1]
    bars = ax.barh(table["product"].astype(str), table["revenue"].to_numpy(dtype=float), color=_BLUE)
    ax.bar_label(
        bars,
        labels=[
            f"{_money(r, currency)} · {int(u):,} sold"
            for r, u in zip(table["revenue"], table["units"], strict=True)
        ],
        padding=3,
        fontsize="small",
    )
    ax.xaxis.set_major_formatter(_money_formatter(currency))
    ax.margins(x=0.3)
    return ax


def product_table(purchases: pd.DataFrame, products: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per product: ``product`` (name), ``units``, ``revenue``, ``purchases``; by revenue, descending."""
    _require(purchases, "product_id", what="product_sales")
    qty = (
        purchases["quantity"].astype("Float64").fillna(1)
        if "quantity" in purchases
        else pd.Series(1.0, index=purchases.index)
    )
    if "total_price" in purchases.columns:
        revenue = purchases["total_price"].astype("Float64").fillna(0)
    else:
        _require(purchases, "price", what="product_sales")
        revenue = purchases["price"].astype("Float64").fillna(0) * qty
    names: dict[Any, str] = {}
    if "name" in purchases.columns:
        for pid, name in zip(purchases["product_id"], purchases["name"], strict=True):
            if not pd.isna(pid) and isinstance(name, str) and name:
                names.setdefault(int(pid), name)
    if products is not None and "name" in products.columns:
        names.update({int(cast(Any, i)): str(n) for i, n in products["name"].items() if not pd.isna(n)})
    frame = pd.DataFrame(
        {"product_id": purchases["product_id"], "units": qty.astype(float), "revenue": revenue.astype(float)}
    ).dropna(subset=["product_id"])
    table = frame.groupby("product_id").agg(
        units=("units", "sum"), revenue=("revenue", "sum"), purchases=("revenue", "size")
    )
    table.insert(0, "product", [names.get(int(i), f"Product {int(i)}") for i in table.index])
    table["units"] = table["units"].astype("int64")
    return table.sort_values(["revenue", "units"], ascending=False, kind="stable")


# ------------------------------------------------------------------------- tables and sets
def summary_table(
    *,
    contacts: pd.DataFrame | None = None,
    deals: pd.DataFrame | None = None,
    tasks: pd.DataFrame | None = None,
    transactions: pd.DataFrame | None = None,
    purchases: pd.DataFrame | None = None,
    now: Any = None,
    currency: str = "$",
) -> pd.DataFrame:
    """Headline figures of the frames given, one row each: ``area``, ``metric``, ``value`` (text).

    Parameters
    ----------
    contacts, deals, tasks, transactions, purchases : pandas.DataFrame, optional
        Frames as loaded; each one given adds its rows.
    now : datetime-like, optional
        The reference instant for "overdue" (default: now, UTC).
    currency : str
        Put before money amounts.

    Returns
    -------
    pandas.DataFrame
        Indexed by (area, metric), one ``value`` column of formatted text.
    """
    rows: list[tuple[str, str, str]] = []
    if contacts is not None:
        rows.append(("contacts", "contacts", f"{len(contacts):,}"))
        if "email" in contacts.columns:
            email = contacts["email"].astype("string").str.strip().str.lower()
            email = email.where(email != "")
            rows.append(("contacts", "without an e-mail", f"{int(email.isna().sum()):,}"))
            dup = int(email.dropna().duplicated(keep=False).sum())
            rows.append(("contacts", "sharing an e-mail (case/blanks ignored)", f"{dup:,}"))
        if "bulk_mail" in contacts.columns:
            state = _as_labels(contacts["bulk_mail"]).str.lower()
            ok = int(state.isin(["opted-in", "double opt-in"]).sum())
            rows.append(("contacts", "opted in to e-mail", f"{ok:,} ({ok / max(len(contacts), 1):.0%})"))
        if "date" in contacts.columns and contacts["date"].notna().any():
            d = _wall_naive(contacts["date"])
            rows.append(("contacts", "added", f"{d.min():%Y-%m-%d} to {d.max():%Y-%m-%d}"))
    if deals is not None and {"sales_stage", "value"} <= set(deals.columns):
        table = pipeline_table(deals)
        stages = [s.lower() for s in table.index]
        open_mask = [s not in ("won", "lost") for s in stages]
        rows.append(("deals", "deals", f"{len(deals):,}"))
        rows.append(
            ("deals", "open pipeline value", _money(float(table.loc[open_mask, "value"].sum()), currency))
        )
        rows.append(
            (
                "deals",
                "open weighted value",
                _money(float(table.loc[open_mask, "weighted_value"].sum()), currency),
            )
        )
        if "won" in stages:
            rows.append(
                ("deals", "won value", _money(float(table["value"].iloc[stages.index("won")]), currency))
            )
    if tasks is not None and {"owner", "status"} <= set(tasks.columns):
        status = _task_status_labels(tasks)
        rows.append(("tasks", "tasks", f"{len(tasks):,}"))
        rows.append(("tasks", "pending", f"{int((status == 'Pending').sum()):,}"))
        if "date_due" in tasks.columns:
            late = int(overdue_table(tasks, now=now).to_numpy().sum())
            rows.append(("tasks", "overdue", f"{late:,}"))
    if transactions is not None and {"date", "status", "total"} <= set(transactions.columns):
        table = revenue_table(transactions)
        rows.append(("transactions", "transactions", f"{len(transactions):,}"))
        rows.append(("transactions", "paid", _money(float(table["paid"].sum()), currency)))
        rows.append(("transactions", "refunded", _money(float(table["refunded"].sum()), currency)))
        rows.append(("transactions", "net", _money(float(table["net"].sum()), currency)))
    if purchases is not None and "product_id" in purchases.columns:
        table = product_table(purchases)
        rows.append(("purchases", "purchases", f"{len(purchases):,}"))
        if len(table):
            best = table.iloc[0]
            rows.append(
                (
                    "purchases",
                    "best-selling product",
                    f"{best['product']} ({_money(float(best['revenue']), currency)})",
                )
            )
    frame = pd.DataFrame(rows, columns=["area", "metric", "value"])
    return frame.set_index(["area", "metric"])


#: Chart name -> (function, the frames it needs).
_CHARTS: dict[str, tuple[Callable[..., Axes], tuple[str, ...]]] = {
    "contact_growth": (contact_growth, ("contacts",)),
    "tag_distribution": (tag_distribution, ("contacts",)),
    "subscription_health": (subscription_health, ("contacts",)),
    "deal_pipeline": (deal_pipeline, ("deals",)),
    "revenue_by_month": (revenue_by_month, ("transactions",)),
    "task_status": (task_status, ("tasks",)),
    "overdue_tasks": (overdue_tasks, ("tasks",)),
    "product_sales": (product_sales, ("purchases", "products")),
}


def report_figures(
    *,
    contacts: pd.DataFrame | None = None,
    deals: pd.DataFrame | None = None,
    tasks: pd.DataFrame | None = None,
    transactions: pd.DataFrame | None = None,
    purchases: pd.DataFrame | None = None,
    products: pd.DataFrame | None = None,
    now: Any = None,
) -> dict[str, Axes]:
    """Every chart the given frames allow, each on its own new Figure.

    Returns
    -------
    dict of str to matplotlib.axes.Axes
        Chart name (the function's name) -> its Axes; save one with
        ``ax.figure.savefig("deal_pipeline.png")``.
    """
    frames = {
        "contacts": contacts,
        "deals": deals,
        "tasks": tasks,
        "transactions": transactions,
        "purchases": purchases,
        "products": products,
    }
    out: dict[str, Axes] = {}
    for name, (func, needs) in _CHARTS.items():
        first = frames[needs[0]]
        if first is None:
            continue
        if name == "product_sales":
            out[name] = product_sales(first, products)
        elif name == "overdue_tasks":
            out[name] = overdue_tasks(first, now=now)
        else:
            out[name] = func(first)
    return out

"""Charts for Ontraport frames (matplotlib): ``from ontraport_pandas import reports``.

Every chart function takes frames that were already loaded (it never fetches records; the
one exception is the users' names for task owners, read once per client when ``owners=``
is not given), draws on the ``ax`` it is given or on a new
:class:`matplotlib.figure.Figure` (never through pyplot, so no global figure is created or
left open), and returns the Axes (the newer reports a :class:`Report` holding it).
Nothing here calls ``plt.show()`` or changes ``rcParams``. In a notebook, show a chart
with ``reports.deal_pipeline(deals).figure``, or draw several on your own figure::

    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4))
    reports.deal_pipeline(deals, ax=a)
    reports.task_status(tasks, ax=b)

============================  ==============================================================
``contact_growth``            new contacts per period, stacked by lead source (days: 7-day average)
``tag_distribution``          contacts per tag (top N)
``subscription_health``       contacts per e-mail subscription state (``bulk_mail``)
``deal_pipeline``             deals per stage: count, value, weighted value
``revenue_by_month``          money collected, refunded and net per month
``task_status``               tasks per owner (by name) and status
``overdue_tasks``             open tasks past due, per owner and age
``product_sales``             paid revenue and units per product
``product_revenue_by_month``  paid revenue per month by product (a :class:`Report`)
``cohorts``                   signup-month cohorts against first purchase (a :class:`Report`)
``lifetime_value``            lifetime value per contact or per segment (a :class:`Report`)
``summary_table``             headline figures of every frame given, as a table
``report_figures``            every chart that the given frames allow
============================  ==============================================================

Every chart has its table function (``revenue_table``, ``product_table``,
``product_month_table``, ``cohort_table``, ``ltv_table``, ``ltv_by_segment``, …); the
newer reports return a :class:`Report` holding both (``report.table``, ``report.figure``).

Money is read from the transaction states (:data:`TRANSACTION_STATES`), as Ontraport's
own sales figures do; the definitions are in :func:`transaction_money`:

* collected: the totals of transactions that were Paid, Partially refunded or Refunded;
* refunded: the whole total of Refunded ones, the refunded part of Partially refunded
  ones (``refund_amount=``; never guessed when not given);
* net: collected minus refunded, each refund subtracted once;
* product revenue: paid purchases only (:func:`paid_purchases`).

Task owners are shown by name, from the users object (``op.users()``).

Labels shown on the charts come from the field labels of the client that loaded
the frame, when it is still open (metadata it already holds: nothing is requested).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
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

from .context import client_for, schema_for

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "COLLECTED",
    "PARTIALLY_REFUNDED",
    "REFUNDED",
    "TRANSACTION_STATES",
    "Report",
    "cohort_table",
    "cohorts",
    "contact_growth",
    "deal_pipeline",
    "first_purchases",
    "lifetime_value",
    "ltv_by_segment",
    "ltv_table",
    "overdue_table",
    "overdue_tasks",
    "owner_names",
    "paid_purchases",
    "pipeline_table",
    "product_month_table",
    "product_revenue_by_month",
    "product_sales",
    "product_table",
    "report_figures",
    "revenue_by_month",
    "revenue_table",
    "subscription_health",
    "summary_table",
    "tag_distribution",
    "task_status",
    "transaction_money",
    "transaction_states",
]

Period = Literal["day", "week", "month", "quarter", "year"]
_PERIOD_CODE = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
_PERIOD_FREQ = {"day": "D", "week": "W-MON", "month": "MS", "quarter": "QS", "year": "YS"}
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
logger = logging.getLogger(__name__)
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
    schema = schema_for(frame)
    if schema is None:  # labels are decoration: never fail a chart for them
        return {}
    return {key: spec.label for key, spec in schema.fields.items() if spec.label}


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


def _period_axis(ax: Axes, by: str, index: Iterable[Any]) -> None:
    """Ticks on period starts: every month (or every 2nd, 3rd, 6th, 12th to keep about 12 ticks)
    for months, quarter starts for quarters, years for years; automatic for days and weeks."""
    stamps = pd.DatetimeIndex(list(index))
    if by not in ("month", "quarter", "year") or stamps.empty:
        _date_axis(ax)
        return
    months = (stamps.max().year - stamps.min().year) * 12 + stamps.max().month - stamps.min().month + 1
    if by == "year" or months > 12 * 12:
        years = max(1, -(-months // (12 * 12)))
        locator: mdates.DateLocator = mdates.YearLocator(years)
    else:
        smallest = 3 if by == "quarter" else 1
        step = next(s for s in (1, 2, 3, 6, 12) if s >= smallest and months / s <= 12)
        locator = mdates.MonthLocator(bymonth=range(1, 13, step))
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if by != "year":
        ax.xaxis.set_minor_locator(mdates.MonthLocator())


def _as_labels(values: pd.Series, *, not_set: str = _NOT_SET) -> pd.Series:
    """Values as display strings, with NA (and empty strings) as ``not_set``."""
    out = values.astype("object").where(values.notna(), None)
    out = out.map(lambda v: not_set if v is None or (isinstance(v, str) and not v.strip()) else str(v))
    return out.astype(object)


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=_NEUTRAL)


Owners = Mapping[Any, str] | pd.DataFrame | None


def owner_names(users: pd.DataFrame) -> dict[int, str]:
    """User id -> display name (first and last name, else the e-mail), from ``op.users()``."""
    names: dict[int, str] = {}
    for uid, row in users.iterrows():
        parts = [row.get(k) for k in ("firstname", "lastname")]
        name = " ".join(str(p).strip() for p in parts if isinstance(p, str) and p.strip())
        if not name and isinstance(row.get("email"), str):
            name = str(row["email"])
        names[int(cast(Any, uid))] = name or f"User {uid}"
    return names


_USERS: weakref.WeakKeyDictionary[Any, dict[int, str]] = weakref.WeakKeyDictionary()


def _resolve_owners(frame: pd.DataFrame, owners: Owners) -> Mapping[Any, str] | None:
    """Names for owner ids: the mapping or users frame given, else the users of the client
    that loaded ``frame`` (one request the first time, remembered per client)."""
    if isinstance(owners, pd.DataFrame):
        return owner_names(owners)
    if owners is not None:
        return owners
    try:
        client = client_for(frame)
        if client is None:
            return None
        if client not in _USERS:
            _USERS[client] = owner_names(client.users(progress=False))
        return _USERS[client]
    except Exception:  # names are decoration: an account whose key cannot read users keeps the ids
        logger.debug("owner names unavailable", exc_info=True)
        return None


def _owner_labels(values: pd.Series, owners: Mapping[Any, str] | None) -> pd.Series:
    names = dict(owners or {})

    def name(v: Any) -> str:
        if v is None or pd.isna(v) or v == 0:
            return "(unassigned)"
        key = int(v) if isinstance(v, (int, np.integer, float)) else v
        return str(names.get(key, names.get(str(key), f"User {key}")))

    return values.astype("object").map(name)


def _sorted_owner_index(index: Iterable[str]) -> list[str]:
    def key(label: str) -> tuple[int, int, str]:
        if label == "(unassigned)":
            return (2, 0, label)
        if label.startswith("User ") and label[5:].isdigit():
            return (1, int(label[5:]), label)
        return (0, 0, label)

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
        With ``by="day"``, ``"auto"`` draws no split: daily bars and a 7-day average line.
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
    >>> from ontraport_pandas import reports
    >>> op = opd.connect("sandbox")
    >>> ax = reports.contact_growth(op.contacts(), by="quarter")
    >>> ax.get_title()
    'New contacts per quarter'
    """
    _require(contacts, date_column, what="contact_growth")
    if split == "auto":
        # stacked bars a day wide cannot be read: days get one series and a weekly average
        split = None if by == "day" else _auto_split(contacts)
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
    periods = pd.date_range(period[ok].min(), period[ok].max(), freq=_PERIOD_FREQ[by])
    if split is None:
        counts = period[ok].value_counts().reindex(periods, fill_value=0).sort_index()
        if by == "day":
            ax.bar(counts.index, counts.to_numpy(), width=_BAR_DAYS[by], color="#90caf9", label="Contacts")
            week = counts.rolling(7, min_periods=1).mean()
            ax.plot(week.index, week.to_numpy(), color=_BLUE, linewidth=1.6, label="7-day average")
            ax.legend(loc="upper left", fontsize="small")
        else:
            ax.bar(counts.index, counts.to_numpy(), width=_BAR_DAYS[by], color=_BLUE, label="Contacts")
    else:
        groups = _as_labels(contacts.loc[ok, split])
        order = [g for g in groups.value_counts().index if g != _NOT_SET]
        keep = order[:top]
        groups = groups.where(groups.isin([*keep, _NOT_SET]), _OTHER)
        table = pd.crosstab(period[ok], groups).reindex(periods, fill_value=0).sort_index()
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
    _period_axis(ax, by, periods)
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
    ax.set_title(f"Contacts per subscription state ({label if label != column else 'e-mail'})")
    ax.set_xlabel("Contacts")
    ax.set_ylabel("Subscription state")
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


#: Ontraport's transaction states (Transaction, object 46, field ``status``): code -> label.
TRANSACTION_STATES: dict[int, str] = {
    0: "Unpaid",
    1: "Paid",
    2: "Refunded",
    3: "Partially refunded",
    4: "Void",
    5: "Declined",
    6: "Written off",
    7: "Pending",
}
#: States whose charge went through: the money was received (even if some or all went back later).
COLLECTED = ("Paid", "Partially refunded", "Refunded")
#: States whose whole total went back to the customer.
REFUNDED = ("Refunded",)
#: States of which part went back; the part is the ``refund_amount`` given.
PARTIALLY_REFUNDED = ("Partially refunded",)


def transaction_states(status: pd.Series) -> pd.Series:
    """Transaction states as Ontraport's labels, from codes (``1``) or labels in any case (``"paid"``)."""
    canonical = {label.lower(): label for label in TRANSACTION_STATES.values()}

    def label(v: Any) -> Any:
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return None
        if isinstance(v, (int, np.integer)) or (
            isinstance(v, (float, np.floating)) and float(v).is_integer()
        ):
            return TRANSACTION_STATES.get(int(v), str(int(v)))
        text = str(v).strip()
        if text.isdigit():
            return TRANSACTION_STATES.get(int(text), text)
        return canonical.get(text.lower(), text)

    return status.astype(object).map(label).astype(object)


def transaction_money(
    transactions: pd.DataFrame,
    *,
    amount: str = "total",
    refund_amount: str | pd.Series | None = None,
    collected: Iterable[str] = COLLECTED,
    refunded: Iterable[str] = REFUNDED,
    partially_refunded: Iterable[str] = PARTIALLY_REFUNDED,
) -> pd.DataFrame:
    """The money of each transaction, by its state: what came in, what went back, what was kept.

    Definitions (the way Ontraport's own sales figures read the transaction states):

    * ``collected``: the ``total`` of every transaction whose charge went through, that is
      in state Paid, Partially refunded or Refunded. Unpaid, Pending, Declined, Void and
      Written off transactions brought in no money and count nowhere.
    * ``refunded``: for a Refunded transaction its whole ``total``; for a Partially
      refunded one the amount that went back (``refund_amount``, capped at the total).
    * ``net``: ``collected - refunded``. A refund is subtracted once, from the money it
      returns, so a fully refunded sale nets to 0 and never below.

    Ontraport's transaction record has no field for the refunded part of a partial refund.
    Give it as ``refund_amount`` (a column of ``transactions`` or a Series on its index,
    e.g. from your payment gateway); where it is missing, nothing is subtracted for that
    transaction and ``refund_known`` is False, so the figure is never guessed.
    Refunds are dated at their transaction's ``date`` (the record has no refund date).

    Parameters
    ----------
    transactions : pandas.DataFrame
        Transactions as loaded (``op.transactions()``): ``status`` and ``amount``.
    amount : str
        The money column (``total``: subtotal, tax and shipping).
    refund_amount : str or pandas.Series, optional
        The refunded part of partially refunded transactions.
    collected, refunded, partially_refunded : iterable of str
        The state labels of each kind (defaults above), if an account reads them differently.

    Returns
    -------
    pandas.DataFrame
        On the index of ``transactions``: ``state``, ``collected``, ``refunded``, ``net``
        (floats) and ``refund_known`` (bool).
    """
    _require(transactions, "status", amount, what="transaction_money")
    state = transaction_states(transactions["status"])
    total = transactions[amount].astype("Float64").fillna(0).astype(float)
    collected_set, full, partial = set(collected), set(refunded), set(partially_refunded)
    got = state.isin(collected_set | full | partial).to_numpy(dtype=bool)
    is_full = state.isin(full).to_numpy(dtype=bool)
    is_partial = state.isin(partial).to_numpy(dtype=bool)
    if refund_amount is None:
        part = pd.Series(np.nan, index=transactions.index)
    elif isinstance(refund_amount, str):
        _require(transactions, refund_amount, what="transaction_money")
        part = pd.to_numeric(transactions[refund_amount].astype(object), errors="coerce").astype(float)
    else:
        part = pd.to_numeric(refund_amount.reindex(transactions.index).astype(object), errors="coerce")
        part = part.astype(float)
    part_values = np.minimum(part.to_numpy(dtype=float), total.to_numpy())
    known = ~np.isnan(part_values)
    back = np.where(is_full, total.to_numpy(), np.where(is_partial & known, part_values, 0.0))
    came = np.where(got, total.to_numpy(), 0.0)
    return pd.DataFrame(
        {
            "state": state.to_numpy(),
            "collected": came,
            "refunded": back,
            "net": came - back,
            "refund_known": ~is_partial | known,
        },
        index=transactions.index,
    )


def revenue_by_month(
    transactions: pd.DataFrame,
    *,
    amount: str = "total",
    refund_amount: str | pd.Series | None = None,
    currency: str = "$",
    ax: Axes | None = None,
) -> Axes:
    """Money per month: collected above the axis, refunded below, and the net as a line.

    The figures are those of :func:`revenue_table` (definitions in :func:`transaction_money`).

    Parameters
    ----------
    transactions : pandas.DataFrame
        Transactions as loaded (``op.transactions()``): ``date``, ``status``, ``total``.
    amount : str
        The money column.
    refund_amount : str or pandas.Series, optional
        The refunded part of partially refunded transactions.
    currency : str
        Put before money amounts.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        Two bar containers ("Collected", "Refunded"), one bar per month each, and a "Net" line.
    """
    table = revenue_table(transactions, amount=amount, refund_amount=refund_amount)
    ax = _axes(ax, (10, 4.5))
    ax.set_title("Revenue per month: collected, refunded, net")
    ax.set_xlabel("Month")
    ax.set_ylabel(f"Amount ({currency})")
    if table.empty:
        _empty(ax, "No transactions with money")
        return ax
    x = table.index
    width = _BAR_DAYS["month"]
    ax.bar(x, table["collected"].to_numpy(dtype=float), width=width, color=_GOOD, label="Collected")
    ax.bar(x, -table["refunded"].to_numpy(dtype=float), width=width, color=_BAD, label="Refunded")
    ax.plot(x, table["net"].to_numpy(dtype=float), color="black", linewidth=1.2, marker=".", label="Net")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.yaxis.set_major_formatter(_money_formatter(currency))
    _period_axis(ax, "month", x)
    unknown = int(table["unknown_refunds"].sum())
    if unknown:
        ax.annotate(
            f"{unknown} partial refund{'s' if unknown != 1 else ''} of unknown amount not subtracted",
            (0.99, 0.02),
            xycoords="axes fraction",
            ha="right",
            fontsize="small",
            color=_NEUTRAL,
        )
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    return ax


def revenue_table(
    transactions: pd.DataFrame,
    *,
    amount: str = "total",
    refund_amount: str | pd.Series | None = None,
) -> pd.DataFrame:
    """Per month (first day, naive, in the dates' own time zone): ``collected``, ``refunded``, ``net``, ``transactions``, ``unknown_refunds``.

    Sums of :func:`transaction_money` by the month of each transaction's ``date``;
    ``transactions`` counts those that brought money in, ``unknown_refunds`` the partially
    refunded ones whose refunded part was not given. Months between the first and the last
    with money are present with zeros.
    """
    _require(transactions, "date", "status", amount, what="revenue_table")
    money = transaction_money(transactions, amount=amount, refund_amount=refund_amount)
    month = _period_start(transactions["date"], "month")
    keep = (month.notna() & money["state"].isin(COLLECTED)).to_numpy(dtype=bool)
    frame = pd.DataFrame(
        {
            "month": month[keep],
            "collected": money["collected"][keep],
            "refunded": money["refunded"][keep],
            "transactions": 1,
            "unknown_refunds": (~money["refund_known"][keep]).astype(int),
        }
    )
    table = frame.groupby("month").sum().sort_index()
    if not table.empty:  # months without money still get a (zero) bar
        full = pd.date_range(table.index.min(), table.index.max(), freq="MS")
        table = table.reindex(full, fill_value=0)
    table.index.name = "month"
    table["net"] = table["collected"] - table["refunded"]
    table = table[["collected", "refunded", "net", "transactions", "unknown_refunds"]]
    return table.astype(
        {
            "collected": float,
            "refunded": float,
            "net": float,
            "transactions": "int64",
            "unknown_refunds": "int64",
        }
    )


_TASK_COLORS = {"Pending": _WARN, "Complete": _GOOD, "Cancelled": _NEUTRAL}


def task_status(
    tasks: pd.DataFrame,
    *,
    owners: Owners = None,
    ax: Axes | None = None,
) -> Axes:
    """Tasks per owner, stacked by status (pending, complete, cancelled).

    Parameters
    ----------
    tasks : pandas.DataFrame
        Tasks as loaded (``op.tasks()``): ``owner`` and ``status``. Ontraport stores
        the pending status as 0, which the type table reads as NA: NA counts as Pending.
    owners : mapping or pandas.DataFrame, optional
        Owner id -> name, or the users frame (``op.users()``). By default the names of
        the users of the client that loaded ``tasks`` (read once per client), else ``User <id>``.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        One bar container per status, one bar per owner in each.
    """
    _require(tasks, "owner", "status", what="task_status")
    status = _task_status_labels(tasks)
    owner = _owner_labels(tasks["owner"], _resolve_owners(tasks, owners))
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


def overdue_table(tasks: pd.DataFrame, *, now: Any = None, owners: Owners = None) -> pd.DataFrame:
    """Open tasks past due per owner (rows, by name: see :func:`task_status`) and age bucket (columns)."""
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
    owner = _owner_labels(tasks.loc[late, "owner"], _resolve_owners(tasks, owners))
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
    owners: Owners = None,
    ax: Axes | None = None,
) -> Axes:
    """Open (pending) tasks past their due date, per owner, stacked by how late they are.

    Parameters
    ----------
    tasks : pandas.DataFrame
        Tasks as loaded: ``owner``, ``status``, ``date_due``.
    now : datetime-like, optional
        The reference instant (default: now, UTC). Naive values are taken as UTC.
    owners : mapping or pandas.DataFrame, optional
        Owner id -> name, or the users frame (see :func:`task_status`).
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
    transactions: pd.DataFrame | None = None,
    top: int = 10,
    currency: str = "$",
    ax: Axes | None = None,
) -> Axes:
    """Paid revenue per product, the ``top`` products, with the units sold.

    Only paid money counts (see :func:`paid_purchases`): unpaid, declined, void, written
    off, pending and refunded sales are left out.

    Parameters
    ----------
    purchases : pandas.DataFrame
        Purchases as loaded (``op.purchases()``): ``product_id``, ``status``,
        ``total_price`` (or ``price`` × ``quantity``), ``quantity``.
    products : pandas.DataFrame, optional
        Products (``op.products()``), for the current product names; without it the
        name stored on the purchase is used.
    transactions : pandas.DataFrame, optional
        Transactions (``op.transactions()``): when given, a purchase is paid when the
        transaction of its ``invoice_id`` is in state Paid.
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
    table = product_table(purchases, products, transactions=transactions).head(top)
    ax = _axes(ax, (9, max(3.0, 0.38 * len(table) + 1.4)))
    ax.set_title(f"Product sales: paid revenue (top {top})")
    ax.set_xlabel(f"Paid revenue ({currency})")
    ax.set_ylabel("Product")
    if table.empty:
        _empty(ax, "No paid purchases")
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


def paid_purchases(purchases: pd.DataFrame, transactions: pd.DataFrame | None = None) -> pd.Series:
    """Which purchases were paid (a boolean Series on the purchases' index).

    With ``transactions``, a purchase is paid when the transaction of its ``invoice_id`` is
    in state Paid. Without, the purchase's own ``status`` says it (``1`` or ``"Paid"``), as
    Ontraport sets it from its transaction. Sales of refunded or partially refunded
    transactions are not paid revenue: the refunded share cannot be told per product.

    Raises
    ------
    ValueError
        If neither ``transactions`` nor the ``status`` column is there to tell.
    """
    if transactions is not None:
        _require(purchases, "invoice_id", what="paid_purchases")
        _require(transactions, "status", what="paid_purchases")
        state = transaction_states(transactions["status"])
        paid_ids = {int(cast(Any, i)) for i, s in state.items() if s == "Paid"}
        invoice = purchases["invoice_id"].astype("Float64")
        return pd.Series(
            [not pd.isna(v) and int(v) in paid_ids for v in invoice], index=purchases.index, dtype=bool
        )
    if "status" not in purchases.columns:
        raise ValueError(
            "Paid revenue needs the purchases' status column (fields=[…, 'status']) or "
            "transactions= to tell paid purchases from unpaid, declined and refunded ones."
        )
    status = purchases["status"]

    def paid(v: Any) -> bool:
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return False
        if isinstance(v, str):
            return v.strip().lower() in ("1", "paid")
        return bool(v == 1)

    return pd.Series([paid(v) for v in status.astype(object)], index=purchases.index, dtype=bool)


def _purchase_money(purchases: pd.DataFrame, transactions: pd.DataFrame | None) -> pd.DataFrame:
    """Per paid purchase: product_id, units, revenue, date (if known)."""
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
    paid = paid_purchases(purchases, transactions)
    frame = pd.DataFrame(
        {
            "product_id": purchases["product_id"].astype("Float64"),
            "units": qty.astype(float),
            "revenue": revenue.astype(float),
        },
        index=purchases.index,
    )
    if "date" in purchases.columns:
        frame["month"] = _period_start(purchases["date"], "month")
    return frame[paid.to_numpy() & frame["product_id"].notna().to_numpy()]


def _product_names(purchases: pd.DataFrame, products: pd.DataFrame | None) -> dict[int, str]:
    names: dict[int, str] = {}
    if "name" in purchases.columns:
        for pid, name in zip(purchases["product_id"], purchases["name"], strict=True):
            if not pd.isna(pid) and isinstance(name, str) and name:
                names.setdefault(int(pid), name)
    if products is not None and "name" in products.columns:
        names.update({int(cast(Any, i)): str(n) for i, n in products["name"].items() if not pd.isna(n)})
    return names


def product_table(
    purchases: pd.DataFrame,
    products: pd.DataFrame | None = None,
    *,
    transactions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per product with paid sales: ``product`` (name), ``units``, ``revenue``, ``purchases``.

    Paid purchases only (:func:`paid_purchases`); by revenue, descending. Indexed by product id.
    """
    frame = _purchase_money(purchases, transactions)
    names = _product_names(purchases, products)
    table = frame.groupby("product_id").agg(
        units=("units", "sum"), revenue=("revenue", "sum"), purchases=("revenue", "size")
    )
    table.index = table.index.astype("int64")
    table.insert(0, "product", [names.get(int(i), f"Product {int(i)}") for i in table.index])
    table["units"] = table["units"].astype("int64")
    return table.sort_values(["revenue", "units"], ascending=False, kind="stable")


def product_month_table(
    purchases: pd.DataFrame,
    products: pd.DataFrame | None = None,
    *,
    transactions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Paid revenue per month (rows, first day naive UTC) and product (columns, by total, descending).

    Paid purchases only (:func:`paid_purchases`), dated by the purchase ``date``; months
    between the first and the last sale are present with zeros.
    """
    _require(purchases, "date", what="product_month_table")
    frame = _purchase_money(purchases, transactions)
    frame = frame[frame["month"].notna()]
    names = _product_names(purchases, products)
    frame = frame.assign(product=[names.get(int(i), f"Product {int(i)}") for i in frame["product_id"]])
    table = frame.pivot_table(
        index="month", columns="product", values="revenue", aggfunc="sum", fill_value=0.0
    )
    if not table.empty:
        full = pd.date_range(table.index.min(), table.index.max(), freq="MS")
        table = table.reindex(full, fill_value=0.0)
        table = table[table.sum().sort_values(ascending=False, kind="stable").index]
    table.index.name = "month"
    table.columns.name = "product"
    return table.astype(float)


@dataclass(frozen=True)
class Report:
    """A chart and the table it draws: ``report.table``, ``report.ax``, ``report.figure``.

    Unpacks as ``table, ax = reports.cohorts(contacts, transactions)``.
    """

    table: pd.DataFrame
    ax: Axes

    @property
    def figure(self) -> Any:
        """The matplotlib Figure (shows itself in Jupyter)."""
        return self.ax.figure

    def __iter__(self) -> Iterator[Any]:
        return iter((self.table, self.ax))


def product_revenue_by_month(
    purchases: pd.DataFrame,
    products: pd.DataFrame | None = None,
    *,
    transactions: pd.DataFrame | None = None,
    top: int = 6,
    currency: str = "$",
    ax: Axes | None = None,
) -> Report:
    """Paid revenue per month, stacked by product (the ``top`` products, the rest as "Other").

    Returns
    -------
    Report
        ``table`` is :func:`product_month_table` (every product); the chart stacks one bar
        container per product shown.
    """
    table = product_month_table(purchases, products, transactions=transactions)
    ax = _axes(ax, (10, 4.5))
    ax.set_title("Paid revenue per month by product")
    ax.set_xlabel("Month")
    ax.set_ylabel(f"Paid revenue ({currency})")
    if table.empty:
        _empty(ax, "No paid purchases")
        return Report(table, ax)
    shown = table.iloc[:, :top].copy()
    if table.shape[1] > top:
        shown[_OTHER] = table.iloc[:, top:].sum(axis=1)
    bottom = np.zeros(len(shown))
    for i, col in enumerate(shown.columns):
        values = shown[col].to_numpy(dtype=float)
        color = "#bdbdbd" if col == _OTHER else _PALETTE[i % len(_PALETTE)]
        ax.bar(shown.index, values, bottom=bottom, width=_BAR_DAYS["month"], color=color, label=str(col))
        bottom = bottom + values
    ax.yaxis.set_major_formatter(_money_formatter(currency))
    _period_axis(ax, "month", shown.index)
    ax.legend(
        title="Product", fontsize="small", title_fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1)
    )
    ax.grid(axis="y", alpha=0.3)
    return Report(table, ax)


def first_purchases(transactions: pd.DataFrame) -> pd.Series:
    """Each contact's first purchase: the earliest ``date`` of a transaction that brought money in.

    A sale later refunded still was a purchase (states in :data:`COLLECTED`). Indexed by
    contact id; contacts without one are absent.
    """
    _require(transactions, "contact_id", "date", "status", what="first_purchases")
    state = transaction_states(transactions["status"])
    ok = state.isin(COLLECTED).to_numpy(dtype=bool) & transactions["contact_id"].notna().to_numpy(dtype=bool)
    dates = _wall_naive(transactions["date"])[ok]
    ids = transactions["contact_id"][ok].astype("int64")
    first = pd.Series(dates.to_numpy(), index=ids.to_numpy()).dropna().groupby(level=0).min()
    first.index.name = "contact_id"
    return first.rename("first_purchase")


def cohort_table(
    contacts: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    months: int = 12,
    values: Literal["share", "count"] = "share",
    now: Any = None,
    date_column: str = "date",
) -> pd.DataFrame:
    """Signup-month cohorts against their first purchase.

    Each row is the contacts added in one month (``date``); column ``contacts`` is its
    size and column ``k`` (0 .. ``months`` - 1) how many of them had made their first
    purchase (:func:`first_purchases`) by the end of the k-th month after the signup
    month (0 = the signup month itself), cumulatively, as a share of the cohort
    (``values="share"``) or a count. A cell whose month has not ended by ``now`` (default:
    the latest date in either frame) is NA: it cannot be known yet. A purchase dated
    before the signup counts in month 0.
    """
    if values not in ("share", "count"):
        raise ValueError(f"values= must be 'share' or 'count', not {values!r}")
    _require(contacts, date_column, what="cohort_table")
    signup = _period_start(contacts[date_column], "month")
    first = first_purchases(transactions)
    ids = pd.Index(contacts.index).astype("int64")
    bought = pd.Series(first.reindex(ids).to_numpy(), index=contacts.index)
    bought_month = _period_start(bought, "month")
    ok = signup.notna().to_numpy(dtype=bool)
    signup, bought_month = signup[ok], bought_month[ok]
    if now is None:
        stamps = [_wall_naive(contacts[date_column]).max(), _wall_naive(transactions["date"]).max()]
        now_ts = max(t for t in stamps if not pd.isna(t)) if any(not pd.isna(t) for t in stamps) else None
    else:
        now_ts = pd.Timestamp(now)
        now_ts = now_ts.tz_convert(None) if now_ts.tzinfo is not None else now_ts
    columns = list(range(months))
    if signup.empty:
        empty = pd.DataFrame(columns=["contacts", *columns], dtype=float)
        empty.index.name = "signup_month"
        return empty
    offset = ((bought_month.dt.year - signup.dt.year) * 12 + (bought_month.dt.month - signup.dt.month)).clip(
        lower=0
    )
    cohorts = pd.date_range(signup.min(), signup.max(), freq="MS")
    size = signup.value_counts().reindex(cohorts, fill_value=0)
    rows = []
    for cohort in cohorts:
        in_cohort = (signup == cohort).to_numpy(dtype=bool)
        off = offset[in_cohort]
        row: dict[Any, Any] = {"contacts": int(size[cohort])}
        for k in columns:
            month_end = cohort + pd.DateOffset(months=k + 1)
            if now_ts is not None and month_end > now_ts + pd.Timedelta(days=1) and k > 0:
                row[k] = np.nan
                continue
            n = int((off <= k).sum())
            row[k] = (n / row["contacts"] if row["contacts"] else np.nan) if values == "share" else float(n)
        rows.append(row)
    table = pd.DataFrame(rows, index=cohorts, columns=["contacts", *columns])
    table["contacts"] = table["contacts"].astype("int64")
    table.index.name = "signup_month"
    table.columns.name = "months_after_signup"
    return table


def cohorts(
    contacts: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    months: int = 12,
    now: Any = None,
    ax: Axes | None = None,
) -> Report:
    """Signup-month cohorts against first purchase, as a heat map of the share that had bought.

    Returns
    -------
    Report
        ``table`` is :func:`cohort_table` (shares); one image on the Axes, a row per cohort.
    """
    table = cohort_table(contacts, transactions, months=months, now=now)
    ax = _axes(ax, (10, max(3.0, 0.32 * len(table) + 1.6)))
    ax.set_title("Signup cohorts: share that made a first purchase, by months after signup")
    ax.set_xlabel("Months after the signup month")
    ax.set_ylabel("Signup month")
    if table.empty:
        _empty(ax, "No contacts with a date")
        return Report(table, ax)
    grid = table[list(range(months))].to_numpy(dtype=float)
    image = ax.imshow(
        np.ma.masked_invalid(grid),
        aspect="auto",
        cmap="Blues",
        vmin=0,
        vmax=max(np.nanmax(grid), 0.01) if np.isfinite(grid).any() else 1,
    )
    ax.set_xticks(range(months), [str(k) for k in range(months)])
    ax.set_yticks(
        range(len(table)), [f"{m:%b %Y} ({n:,})" for m, n in zip(table.index, table["contacts"], strict=True)]
    )
    if len(table) * months <= 400:
        for (r, c), v in np.ndenumerate(grid):
            if np.isfinite(v):
                ax.text(
                    c,
                    r,
                    f"{v:.0%}",
                    ha="center",
                    va="center",
                    fontsize="x-small",
                    color="white" if v > 0.6 * np.nanmax(grid) else "black",
                )
    cast(Any, ax.figure).colorbar(
        image, ax=ax, label="Share of the cohort", format=FuncFormatter(lambda x, _p: f"{x:.0%}")
    )
    return Report(table, ax)


def ltv_table(
    contacts: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    amount: str = "total",
    refund_amount: str | pd.Series | None = None,
) -> pd.DataFrame:
    """Lifetime value per contact: ``collected``, ``refunded``, ``ltv`` (net), ``purchases``, first and last.

    Money by :func:`transaction_money` (lifetime value = net: collected minus refunded),
    summed per ``contact_id`` over the contacts of ``contacts`` (its index), contacts
    without a purchase at 0. ``purchases`` counts the transactions that brought money in.
    """
    _require(transactions, "contact_id", "date", "status", amount, what="ltv_table")
    money = transaction_money(transactions, amount=amount, refund_amount=refund_amount)
    got = money["state"].isin(COLLECTED).to_numpy(dtype=bool) & transactions["contact_id"].notna().to_numpy(
        dtype=bool
    )
    frame = pd.DataFrame(
        {
            "contact_id": transactions["contact_id"][got].astype("int64").to_numpy(),
            "collected": money["collected"][got].to_numpy(),
            "refunded": money["refunded"][got].to_numpy(),
            "date": _wall_naive(transactions["date"])[got].to_numpy(),
        }
    )
    per = frame.groupby("contact_id").agg(
        collected=("collected", "sum"),
        refunded=("refunded", "sum"),
        purchases=("collected", "size"),
        first_purchase=("date", "min"),
        last_purchase=("date", "max"),
    )
    ids = pd.Index(contacts.index).astype("int64")
    table = per.reindex(ids)
    table[["collected", "refunded"]] = table[["collected", "refunded"]].fillna(0.0)
    table["purchases"] = table["purchases"].fillna(0).astype("int64")
    table.insert(2, "ltv", table["collected"] - table["refunded"])
    table.index.name = "contact_id"
    return table


def ltv_by_segment(
    contacts: pd.DataFrame,
    transactions: pd.DataFrame,
    segment: str,
    *,
    amount: str = "total",
    refund_amount: str | pd.Series | None = None,
) -> pd.DataFrame:
    """Lifetime value per segment (a column of ``contacts``; a list column such as tags counts a contact in each).

    Columns: ``contacts``, ``customers`` (with a purchase), ``ltv`` (total net),
    ``ltv_per_contact``, ``ltv_per_customer``; by ``ltv_per_contact``, descending.
    Contacts without a value are the segment "(not set)".
    """
    _require(contacts, segment, what="ltv_by_segment")
    per = ltv_table(contacts, transactions, amount=amount, refund_amount=refund_amount)
    values = contacts[segment]
    if values.dtype == object and values.map(lambda v: isinstance(v, (list, tuple, set))).any():
        seg = values.map(lambda v: list(v) if isinstance(v, (list, tuple, set)) and len(v) else [_NOT_SET])
        seg = seg.explode()
        seg = seg.astype(object)
    else:
        seg = _as_labels(values)
    frame = pd.DataFrame(
        {
            "segment": seg.to_numpy(),
            "ltv": per["ltv"].reindex(pd.Index(seg.index).astype("int64")).to_numpy(),
            "customer": per["purchases"].reindex(pd.Index(seg.index).astype("int64")).to_numpy() > 0,
        }
    )
    table = frame.groupby("segment").agg(
        contacts=("ltv", "size"), customers=("customer", "sum"), ltv=("ltv", "sum")
    )
    table["customers"] = table["customers"].astype("int64")
    table["ltv_per_contact"] = table["ltv"] / table["contacts"]
    table["ltv_per_customer"] = (table["ltv"] / table["customers"].where(table["customers"] > 0)).astype(
        float
    )
    table.index.name = segment
    return table.sort_values(["ltv_per_contact", "contacts"], ascending=False, kind="stable")


def lifetime_value(
    contacts: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    segment: str | None = None,
    top: int = 15,
    amount: str = "total",
    refund_amount: str | pd.Series | None = None,
    currency: str = "$",
    ax: Axes | None = None,
) -> Report:
    """Lifetime value: per segment as bars (average per contact), or its distribution over customers.

    ``segment`` is a column of ``contacts`` (a list column such as tags counts a contact in
    each of its values); ``"auto"`` takes the lead source as :func:`contact_growth` does.
    Money by :func:`transaction_money`: lifetime value is net of refunds.

    Returns
    -------
    Report
        With ``segment``: ``table`` is :func:`ltv_by_segment`, one bar per segment shown
        (the ``top`` by value per contact). Without: ``table`` is :func:`ltv_table` (one
        row per contact) and the chart a histogram of the customers' lifetime value.
    """
    ax = _axes(ax, (9, 4.5))
    if segment == "auto":
        segment = _auto_split(contacts)
    if segment is None:
        table = ltv_table(contacts, transactions, amount=amount, refund_amount=refund_amount)
        buyers = table.loc[table["purchases"] > 0, "ltv"].to_numpy(dtype=float)
        ax.set_title(f"Lifetime value of customers ({len(buyers):,} of {len(table):,} contacts bought)")
        ax.set_xlabel(f"Lifetime value, net of refunds ({currency})")
        ax.set_ylabel("Customers")
        if not len(buyers):
            _empty(ax, "No customers")
            return Report(table, ax)
        ax.hist(buyers, bins=min(30, max(5, len(buyers) // 5)), color=_BLUE)
        mean = float(buyers.mean())
        ax.axvline(mean, color="black", linewidth=1, label=f"Mean {_money(mean, currency)}")
        ax.legend(fontsize="small")
        ax.xaxis.set_major_formatter(_money_formatter(currency))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        return Report(table, ax)
    table = ltv_by_segment(contacts, transactions, segment, amount=amount, refund_amount=refund_amount)
    shown = table.head(top).iloc[::-1]
    label = _label(contacts, segment)
    ax.set_title(f"Lifetime value per contact by {label}")
    ax.set_xlabel(f"Average lifetime value per contact, net of refunds ({currency})")
    ax.set_ylabel(label)
    if table.empty:
        _empty(ax, "No contacts")
        return Report(table, ax)
    bars = ax.barh(shown.index.astype(str), shown["ltv_per_contact"].to_numpy(dtype=float), color=_BLUE)
    ax.bar_label(
        bars,
        labels=[
            f"{_money(v, currency)} · {int(n):,} contacts"
            for v, n in zip(shown["ltv_per_contact"], shown["contacts"], strict=True)
        ],
        padding=3,
        fontsize="small",
    )
    ax.xaxis.set_major_formatter(_money_formatter(currency))
    ax.margins(x=0.3)
    return Report(table, ax)


# ------------------------------------------------------------------------- tables and sets
def summary_table(
    *,
    contacts: pd.DataFrame | None = None,
    deals: pd.DataFrame | None = None,
    tasks: pd.DataFrame | None = None,
    transactions: pd.DataFrame | None = None,
    purchases: pd.DataFrame | None = None,
    products: pd.DataFrame | None = None,
    now: Any = None,
    currency: str = "$",
) -> pd.DataFrame:
    """Headline figures of the frames given, one row each: ``area``, ``metric``, ``value`` (text).

    Parameters
    ----------
    contacts, deals, tasks, transactions, purchases : pandas.DataFrame, optional
        Frames as loaded; each one given adds its rows. Money follows the definitions of
        :func:`transaction_money` (collected, refunded, net) and :func:`paid_purchases`.
    products : pandas.DataFrame, optional
        For the current product names.
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
        rows.append(("transactions", "with money collected", f"{int(table['transactions'].sum()):,}"))
        rows.append(("transactions", "collected", _money(float(table["collected"].sum()), currency)))
        rows.append(("transactions", "refunded", _money(float(table["refunded"].sum()), currency)))
        rows.append(("transactions", "net revenue", _money(float(table["net"].sum()), currency)))
        unknown = int(table["unknown_refunds"].sum())
        if unknown:
            rows.append(("transactions", "partial refunds of unknown amount", f"{unknown:,}"))
    if purchases is not None and "product_id" in purchases.columns and "status" in purchases.columns:
        table = product_table(purchases, products, transactions=None)
        rows.append(("purchases", "purchases", f"{len(purchases):,}"))
        rows.append(("purchases", "paid purchases", f"{int(table['purchases'].sum()):,}"))
        if len(table):
            best = table.iloc[0]
            rows.append(
                (
                    "purchases",
                    "best-selling product (paid revenue)",
                    f"{best['product']} ({_money(float(best['revenue']), currency)})",
                )
            )
    frame = pd.DataFrame(rows, columns=["area", "metric", "value"])
    return frame.set_index(["area", "metric"])


#: Chart name -> (function, the frames it needs).
_CHARTS: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "contact_growth": (contact_growth, ("contacts",)),
    "tag_distribution": (tag_distribution, ("contacts",)),
    "subscription_health": (subscription_health, ("contacts",)),
    "deal_pipeline": (deal_pipeline, ("deals",)),
    "revenue_by_month": (revenue_by_month, ("transactions",)),
    "task_status": (task_status, ("tasks",)),
    "overdue_tasks": (overdue_tasks, ("tasks",)),
    "product_sales": (product_sales, ("purchases",)),
    "product_revenue_by_month": (product_revenue_by_month, ("purchases",)),
    "cohorts": (cohorts, ("contacts", "transactions")),
    "lifetime_value": (lifetime_value, ("contacts", "transactions")),
}


def report_figures(
    *,
    contacts: pd.DataFrame | None = None,
    deals: pd.DataFrame | None = None,
    tasks: pd.DataFrame | None = None,
    transactions: pd.DataFrame | None = None,
    purchases: pd.DataFrame | None = None,
    products: pd.DataFrame | None = None,
    users: pd.DataFrame | None = None,
    now: Any = None,
) -> dict[str, Axes]:
    """Every chart the given frames allow, each on its own new Figure.

    ``users`` (``op.users()``) names the task owners; without it the names are read
    through the client that loaded ``tasks``, if it is open.

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
    }
    out: dict[str, Axes] = {}
    for name, (func, needs) in _CHARTS.items():
        given = [f for f in (frames[n] for n in needs) if f is not None]
        if len(given) < len(needs):
            continue
        if name in ("product_sales", "product_revenue_by_month"):
            if "status" not in given[0].columns and transactions is None:
                continue
            drawn = func(given[0], products, transactions=transactions)
        elif name in ("task_status", "overdue_tasks"):
            drawn = func(given[0], owners=users, **({"now": now} if name == "overdue_tasks" else {}))
        elif name == "cohorts":
            drawn = func(*given, now=now)
        else:
            drawn = func(*given)
        out[name] = drawn.ax if isinstance(drawn, Report) else drawn
    return out

"""Report notebooks, and the connection *choices* that notebooks and the picker share.

A choice is a short key that names a connection without holding a secret, so it
can sit in a notebook's parameters cell, in widget state and in the picker's memory:

============================  ===================================================
``"sandbox"``                 the embedded simulator (options: ``SANDBOX`` dict)
``"env"``                     the REST API with ``ONTRAPORT_APP_ID`` /
                              ``ONTRAPORT_API_KEY`` from the kernel's environment
``"membrane:<connection id>"``  a Membrane connection (``membrane connection list``)
============================  ===================================================

:func:`report_notebook` writes an ad-hoc report as a Jupyter notebook (nbformat):
a title, a parameters cell (the choice and filters, never a secret), a provenance
cell (when, against which connection, LIVE or SANDBOX, rows and a snapshot hash per
object), the charts of :mod:`ontraport_pandas.reports` and a summary table; it can
execute it with nbclient and save it.

Nothing here is imported by ``import ontraport_pandas``; nbformat and nbclient are
imported on first use.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import html
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._version import __version__
from .errors import ConfigurationError

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from .client import Ontraport

__all__ = [
    "ENV_CHOICE",
    "MEMBRANE_PREFIX",
    "REPORT_OBJECTS",
    "SANDBOX_CHOICE",
    "Provenance",
    "choice_of",
    "connect_choice",
    "env_credentials",
    "provenance",
    "report_notebook",
    "secret_values",
]

logger = logging.getLogger(__name__)

SANDBOX_CHOICE = "sandbox"
ENV_CHOICE = "env"
MEMBRANE_PREFIX = "membrane:"
NOTEBOOK_EXTRA = 'pip install "ontraport-pandas[notebook]"'

#: The object types a report loads.
REPORT_OBJECTS = ("contacts", "deals", "tasks", "transactions", "purchases", "products")

_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.IGNORECASE)


# ------------------------------------------------------------------------------ choices
def _connect(target: str | None = None, **options: Any) -> Ontraport:
    """``opd.connect``."""
    from ._connect import connect

    return connect(target, **options)


def env_credentials() -> bool:
    """True when ``ONTRAPORT_APP_ID`` and ``ONTRAPORT_API_KEY`` are both set."""
    return bool(os.environ.get("ONTRAPORT_APP_ID") and os.environ.get("ONTRAPORT_API_KEY"))


def connect_choice(
    choice: str,
    *,
    sandbox_options: Mapping[str, Any] | None = None,
    membrane_command: str | list[str] | None = None,
) -> Ontraport:
    """Connect to what a choice key names.

    Parameters
    ----------
    choice : str
        ``"sandbox"``, ``"env"`` or ``"membrane:<connection id>"``.
    sandbox_options : mapping, optional
        Keywords for ``opd.connect("sandbox", …)`` (``seed``, ``contacts``, ``path``,
        ``rate_limit``…).
    membrane_command : str or list of str, optional
        The membrane executable (default ``$ONTRAPORT_PANDAS_MEMBRANE`` or ``membrane``).

    Returns
    -------
    Ontraport
        The client.

    Raises
    ------
    ConfigurationError
        An unknown choice, or ``"env"`` without both environment variables.
    MembraneSetupError
        The Membrane CLI is missing, not logged in, or the connection is not ready (the
        message says what to run).

    Examples
    --------
    >>> op = connect_choice("sandbox", sandbox_options={"contacts": 100})
    >>> op.live
    False
    """
    if not isinstance(choice, str) or not choice.strip():
        raise ConfigurationError(f"A connection choice is a non-empty string, not {choice!r}.")
    choice = choice.strip()
    if choice == SANDBOX_CHOICE:
        return _connect("sandbox", **dict(sandbox_options or {}))
    if choice == ENV_CHOICE:
        if not env_credentials():
            raise ConfigurationError(
                "The 'env' connection needs ONTRAPORT_APP_ID and ONTRAPORT_API_KEY in the environment "
                "(set them before starting Jupyter; never paste the key into a notebook)."
            )
        return _connect(app_id=os.environ["ONTRAPORT_APP_ID"], api_key=os.environ["ONTRAPORT_API_KEY"])
    if choice.startswith(MEMBRANE_PREFIX) and choice[len(MEMBRANE_PREFIX) :].strip():
        return _connect(membrane=choice[len(MEMBRANE_PREFIX) :].strip(), membrane_command=membrane_command)
    raise ConfigurationError(
        f"Unknown connection choice {choice!r}: use 'sandbox', 'env' or 'membrane:<connection id>'."
    )


def choice_of(client: Ontraport) -> str | None:
    """The choice key that reconnects to ``client``'s account, or None when there is none.

    The embedded sandbox is ``"sandbox"`` (a new kernel regenerates it from its seed, or
    reopens its file when it has a ``path``); a Membrane client is
    ``"membrane:<id>"``; a REST client whose App ID is ``ONTRAPORT_APP_ID`` is ``"env"``.
    """
    if getattr(client, "sandbox", None) is not None:
        return SANDBOX_CHOICE
    transport = client.transport
    connection_id = getattr(transport, "connection_id", None)
    if isinstance(connection_id, str) and connection_id:
        return MEMBRANE_PREFIX + connection_id
    app_id = getattr(transport, "app_id", None)
    base_url = str(getattr(transport, "base_url", ""))
    if (
        app_id
        and app_id == os.environ.get("ONTRAPORT_APP_ID")
        and base_url.startswith("https://api.ontraport.com")
    ):
        return ENV_CHOICE
    return None


def _in_memory_sandbox(client: Ontraport) -> bool:
    """True for a client on an embedded sandbox without a file: no other process can reach its state."""
    config = getattr(getattr(client, "sandbox", None), "config", None)
    return config is not None and not config.path


def sandbox_options_of(client: Ontraport) -> dict[str, Any]:
    """The options that rebuild ``client``'s embedded sandbox in another process."""
    config = getattr(getattr(client, "sandbox", None), "config", None)
    if config is None:
        return {}
    options: dict[str, Any] = {
        "seed": config.seed,
        "contacts": config.contacts,
        "rate_limit": config.rate_limit,
    }
    if config.path:
        options["path"] = os.path.abspath(config.path)
    return options


# ------------------------------------------------------------------------------ secrets
def secret_values() -> list[str]:
    """Values of the environment variables that look secret (``*KEY*``, ``*TOKEN*``, …).

    Used to check and scrub notebook outputs; values shorter than 6 characters are
    ignored (too likely to match by chance).
    """
    out = {v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= 6}
    return sorted(out, key=len, reverse=True)


def _scrub(text: str, secrets: list[str]) -> str:
    for s in secrets:
        if s in text:
            text = text.replace(s, "***")
    return text


def _scrub_notebook(nb: NotebookNode, secrets: list[str]) -> int:
    """Replace secret values in every output; return how many outputs were changed."""
    if not secrets:
        return 0
    changed = 0

    def clean(value: Any) -> Any:
        nonlocal changed
        if isinstance(value, str):
            new = _scrub(value, secrets)
            if new != value:
                changed += 1
            return new
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return type(value)((k, clean(v)) for k, v in value.items())
        return value

    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = clean(cell.get("outputs", []))
    return changed


# ------------------------------------------------------------------------------ provenance
def snapshot_hash(frame: pd.DataFrame) -> str:
    """A short hash of a frame's record ids and modification dates (``dlm``), or of all cells."""
    if "dlm" in frame.columns:
        basis = pd.DataFrame({"dlm": frame["dlm"].astype("string")}, index=frame.index.astype("string"))
    else:
        basis = frame.astype("string")
        basis.index = frame.index.astype("string")
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(basis, index=True).to_numpy().tobytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Provenance:
    """When a report ran and on what data: connection, mode, rows and snapshot hash per object.

    Attributes
    ----------
    run_at : str
        When the data was read (UTC, ISO 8601).
    connection : str
        The connection's name (never a secret).
    live : bool
        True for real Ontraport data, False for the sandbox.
    choice : str or None
        The connection choice key.
    version : str
        The ontraport-pandas version.
    table : pandas.DataFrame
        Per object: ``rows``, ``where``, ``loaded_at``, ``snapshot``.
    """

    run_at: str
    connection: str
    live: bool
    choice: str | None
    version: str
    table: pd.DataFrame = field(repr=False)

    @property
    def mode(self) -> str:
        """``"LIVE"`` or ``"SANDBOX"``."""
        return "LIVE" if self.live else "SANDBOX"

    def __repr__(self) -> str:
        lines = [
            f"Report data read {self.run_at} from {self.connection} [{self.mode}]",
            f"connection choice: {self.choice}; ontraport-pandas {self.version}",
            self.table.to_string(),
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        color = "#c62828" if self.live else "#2e7d32"
        esc = html.escape
        return (
            f'<div class="ontraport-provenance"><span style="background:{color};color:white;padding:2px 8px;'
            f'border-radius:3px;font-weight:bold">{self.mode}</span> '
            f"<b>Data read {esc(self.run_at)}</b> from {esc(self.connection)}"
            f"<br><small>connection choice <code>{esc(str(self.choice))}</code>; "
            f"ontraport-pandas {esc(self.version)}</small>{self.table.to_html(na_rep='')}</div>"
        )


def provenance(
    client: Ontraport, frames: Mapping[str, pd.DataFrame], *, choice: str | None = None
) -> Provenance:
    """Record when and from which connection ``frames`` were read.

    Parameters
    ----------
    client : Ontraport
        The client that loaded the frames.
    frames : mapping of str to DataFrame
        Object type -> frame as loaded.
    choice : str, optional
        The connection choice key (default: :func:`choice_of`).

    Returns
    -------
    Provenance
        Renders as a small table in Jupyter.
    """
    rows = []
    for name, frame in frames.items():
        info = frame.attrs.get("ontraport") or {}
        rows.append(
            {
                "object": name,
                "rows": len(frame),
                "where": info.get("where") or "",
                "loaded_at": info.get("loaded_at") or "",
                "snapshot": snapshot_hash(frame),
            }
        )
    table = pd.DataFrame(rows, columns=["object", "rows", "where", "loaded_at", "snapshot"]).set_index(
        "object"
    )
    loaded = [str(r["loaded_at"]) for r in rows if r["loaded_at"]]
    run_at = min(loaded) if loaded else _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    return Provenance(
        run_at=run_at,
        connection=client.name,
        live=client.live,
        choice=choice if choice is not None else choice_of(client),
        version=__version__,
        table=table,
    )


# ------------------------------------------------------------------------------ notebooks
def _nbformat() -> Any:
    try:
        import nbformat
    except ImportError:
        raise ImportError(f"Report notebooks need nbformat: {NOTEBOOK_EXTRA}") from None
    return nbformat


def new_notebook(cells: list[tuple[str, str]], *, prefix: str, title: str) -> NotebookNode:
    """A notebook from ``(kind, source)`` pairs (``"md"`` or ``"code"``), with stable cell ids.

    The ids are ``<prefix>-<n>``, so building the same notebook twice gives the same file.
    A code cell whose source starts with ``# Parameters`` gets the ``parameters`` tag
    (papermill's convention).
    """
    nbf = _nbformat()
    v4 = nbf.v4
    nb = v4.new_notebook()
    for n, (kind, source) in enumerate(cells):
        source = source.strip("\n")
        if kind == "md":
            cell = v4.new_markdown_cell(source)
        else:
            cell = v4.new_code_cell(source)
            if source.startswith("# Parameters"):
                cell.metadata["tags"] = ["parameters"]
        cell["id"] = f"{prefix}-{n:02d}"
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["title"] = title
    return nb


def _py(value: Any) -> str:
    """A Python literal for a parameters cell (dicts one key per line when long)."""
    if isinstance(value, Mapping):
        items = [f"{k!r}: {_py(v)}" for k, v in value.items()]
        text = "{" + ", ".join(items) + "}"
        if len(text) > 80:
            text = "{\n" + "".join(f"    {i},\n" for i in items) + "}"
        return text
    return repr(value)


def report_cells(
    *,
    title: str,
    connection: str,
    sandbox_options: Mapping[str, Any] | None = None,
    where: Mapping[str, str] | None = None,
    now: str | None = None,
) -> list[tuple[str, str]]:
    """The cells of a report notebook, as ``(kind, source)`` pairs."""
    sandbox = dict(sandbox_options or {})
    where = dict(where or {})
    return [
        (
            "md",
            f"""
# {title}

An ad-hoc report on Ontraport data, generated by `ontraport_pandas.report_notebook()`.
Run it top to bottom; change the parameters below to report on another connection or on
filtered records. Every chart function takes frames that are already loaded, so each cell
can be copied into your own notebook.
""",
        ),
        (
            "code",
            f"""
# Parameters: which connection and which records. Never put an API key here: the "env"
# connection reads ONTRAPORT_APP_ID / ONTRAPORT_API_KEY from the kernel's environment.
CONNECTION = {connection!r}  # "sandbox", "env" or "membrane:<connection id>"
SANDBOX = {_py(sandbox)}  # options of the embedded sandbox (used when CONNECTION == "sandbox")
WHERE = {_py(where)}  # object type -> filter, e.g. {{"contacts": "bulk_mail == 'Opted-in'"}}
NOW = {now!r}  # reference time for "overdue" (None: when the notebook runs)
""",
        ),
        (
            "code",
            """
%matplotlib inline
import ontraport_pandas as opd
from ontraport_pandas import reports
from ontraport_pandas.notebook import REPORT_OBJECTS, connect_choice, provenance

op = connect_choice(CONNECTION, sandbox_options=SANDBOX)
frames = {name: op.frame(name, where=WHERE.get(name)) for name in REPORT_OBJECTS}
contacts, deals, tasks = frames["contacts"], frames["deals"], frames["tasks"]
transactions, purchases, products = frames["transactions"], frames["purchases"], frames["products"]
try:
    users = op.users()  # staff: the owners' names
except opd.PermissionDeniedError:
    users = None  # a key that may not read users: owners show as "User <id>"
op
""",
        ),
        (
            "md",
            """
## Provenance

When the data was read, from which connection (LIVE or SANDBOX), how many rows of each
object, the filters, and a hash of each snapshot (record ids and modification dates): the
same hash means the same records, unchanged.
""",
        ),
        ("code", "provenance(op, frames, choice=CONNECTION)"),
        ("md", "## Summary"),
        (
            "code",
            """
reports.summary_table(
    contacts=contacts,
    deals=deals,
    tasks=tasks,
    transactions=transactions,
    purchases=purchases,
    products=products,
    now=NOW,
)
""",
        ),
        ("md", "## Contacts\n\nNew contacts per month, split by lead source."),
        ("code", 'reports.contact_growth(contacts, by="month").figure'),
        ("md", "The most used tags."),
        ("code", "reports.tag_distribution(contacts, top=15).figure"),
        ("md", "E-mail subscription states: who can be mailed, who bounced."),
        ("code", "reports.subscription_health(contacts).figure"),
        (
            "md",
            "## Deals\n\nThe pipeline by stage: count, value and value weighted by the expected win percentage.",
        ),
        ("code", "reports.deal_pipeline(deals).figure"),
        ("code", "reports.pipeline_table(deals)"),
        (
            "md",
            """
## Revenue

Money per month, read from the transaction states: collected (Paid, Partially refunded and
Refunded transactions) above the axis, refunded below, net (collected minus refunded) as a
line. Declined, unpaid, void, pending and written-off transactions brought no money.
""",
        ),
        ("code", "reports.revenue_by_month(transactions).figure"),
        ("code", "reports.revenue_table(transactions)"),
        ("md", "## Products\n\nPaid revenue only: unpaid, declined and refunded sales are left out."),
        ("code", "reports.product_sales(purchases, products, top=10).figure"),
        ("code", "by_month = reports.product_revenue_by_month(purchases, products)\nby_month.figure"),
        ("code", "by_month.table"),
        (
            "md",
            """
## Customers

Signup-month cohorts: the share of each month's new contacts that had made a first
purchase by each month after signing up; then the lifetime value (net of refunds) per
contact, by lead source.
""",
        ),
        ("code", "cohorts = reports.cohorts(contacts, transactions, now=NOW)\ncohorts.figure"),
        ("code", "cohorts.table"),
        (
            "code",
            'ltv = reports.lifetime_value(contacts, transactions, segment="auto")\nltv.figure',
        ),
        ("code", "ltv.table"),
        (
            "md",
            "## Tasks\n\nTasks per owner (by name, from the users object) and status, then the open tasks that are past due.",
        ),
        ("code", "reports.task_status(tasks, owners=users).figure"),
        ("code", "reports.overdue_tasks(tasks, now=NOW, owners=users).figure"),
    ]


def report_notebook(
    path: str | os.PathLike[str] | None = None,
    *,
    client: Ontraport | None = None,
    connection: str | None = None,
    where: str | Mapping[str, str] | None = None,
    execute: bool = False,
    title: str = "Ontraport report",
    sandbox_options: Mapping[str, Any] | None = None,
    now: Any = None,
    timeout: float = 600,
    kernel_name: str = "python3",
) -> NotebookNode:
    """Build an ad-hoc report notebook; optionally run it and save it.

    Parameters
    ----------
    path : str or path-like, optional
        Where to save the notebook (``.ipynb``); not saved when None.
    client : Ontraport, optional
        The connection to report on (default: the default client, else the sandbox).
        The notebook reconnects from its parameters, never from a secret: the sandbox
        by its options (a file-backed sandbox by its ``path``), Membrane by connection
        id, the REST API through ``ONTRAPORT_APP_ID`` / ``ONTRAPORT_API_KEY`` in the
        kernel's environment. A sandbox kept in memory is refused: the notebook's
        kernel cannot see its state (pass ``connection="sandbox"`` for fresh demo data).
    connection : str, optional
        The connection choice key instead (``"sandbox"``, ``"env"``, ``"membrane:<id>"``).
    where : str or mapping, optional
        A filter for contacts, or object type -> filter (``where=`` of ``op.frame``).
    execute : bool
        Run the notebook with nbclient (kernel ``kernel_name``) before returning it.
    title : str
        The notebook's title.
    sandbox_options : mapping, optional
        Options of the sandbox (default: those of ``client`` when it is a sandbox).
    now : datetime-like, optional
        Reference time for overdue tasks (default: when the notebook runs).
    timeout : float
        Seconds one cell may run.
    kernel_name : str
        The Jupyter kernel (``python3``: ipykernel's own kernel spec).

    Returns
    -------
    nbformat.NotebookNode
        The notebook (with outputs when executed).

    Raises
    ------
    ImportError
        nbformat (or nbclient, to execute) is not installed.
    ValueError
        ``client`` cannot be named by a choice key (pass ``connection=``).
    ConfigurationError
        ``client`` is an in-memory sandbox (connect with ``path=``, or pass ``connection=``).
    nbclient.exceptions.CellExecutionError
        A cell failed while executing; the notebook with the error is saved to ``path`` first.

    Examples
    --------
    >>> op = opd.connect("sandbox", path="demo.sqlite")   # a file: the notebook's kernel reopens it
    >>> nb = opd.report_notebook("report.ipynb", client=op)  # execute=True runs it as well
    >>> nb.cells[0].source.splitlines()[0]
    '# Ontraport report'
    """
    nbf = _nbformat()
    if client is None and connection is None:
        from .context import default_client

        client = default_client(required=False)
    if connection is None and sandbox_options is None and client is not None and _in_memory_sandbox(client):
        raise ConfigurationError(
            f"{client.name} lives in this process's memory: the report notebook runs in its own "
            "kernel and would report fresh demo data, not what this client sees. Keep the sandbox "
            'in a file instead: op = opd.connect("sandbox", path="demo.sqlite") (the notebook '
            'reopens that file), or pass connection="sandbox" to report on fresh demo data on purpose.'
        )
    if connection is None:
        if client is None:
            connection = SANDBOX_CHOICE
        else:
            connection = choice_of(client)
            if connection is None:
                raise ValueError(
                    f"{client.name} cannot be reopened from a notebook parameter: pass connection= "
                    "('sandbox', 'env' or 'membrane:<connection id>')."
                )
    if sandbox_options is None:
        sandbox_options = sandbox_options_of(client) if client is not None else {}
    if connection != SANDBOX_CHOICE:
        sandbox_options = {}
    filters = {"contacts": where} if isinstance(where, str) else dict(where or {})
    unknown = set(filters) - set(REPORT_OBJECTS)
    if unknown:
        raise ValueError(f"where= names unknown object type(s) {sorted(unknown)}; use {list(REPORT_OBJECTS)}")
    now_text = None if now is None else pd.Timestamp(now).isoformat()
    cells = report_cells(
        title=title, connection=connection, sandbox_options=sandbox_options, where=filters, now=now_text
    )
    nb = new_notebook(cells, prefix="report", title=title)
    nbf.validate(nb)
    target = Path(path) if path is not None else None
    if execute:
        run_notebook(
            nb,
            cwd=target.parent if target is not None else None,
            timeout=timeout,
            kernel_name=kernel_name,
            save_to=target,
        )
    elif target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        nbf.write(nb, str(target))
    return nb


def run_notebook(
    nb: NotebookNode,
    *,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 600,
    kernel_name: str = "python3",
    save_to: str | os.PathLike[str] | None = None,
) -> NotebookNode:
    """Execute ``nb`` in place with nbclient, scrub secret values from its outputs, save it.

    The kernel inherits this process's environment (so ``"env"`` connections work) and
    runs in ``cwd`` (default: a temporary folder). Outputs are checked for the values of
    secret-looking environment variables, which are replaced with ``***``.
    """
    try:
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
    except ImportError:
        raise ImportError(f"Executing notebooks needs nbclient and ipykernel: {NOTEBOOK_EXTRA}") from None
    nbf = _nbformat()
    secrets = secret_values()
    target = Path(save_to) if save_to is not None else None
    with tempfile.TemporaryDirectory(prefix="ontraport-report-") as tmp:
        workdir = Path(cwd) if cwd is not None else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        from traitlets.config import Config

        config = Config()
        if os.name == "posix":
            # Local sockets in a private folder instead of TCP on loopback: nothing else on the
            # machine can connect to the kernel (and the kernel has nothing to warn about).
            config.KernelManager.transport = "ipc"
            config.KernelManager.ip = os.path.join(tmp, "kernel")
        runner = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name=kernel_name,
            resources={"metadata": {"path": str(workdir)}},
            config=config,
        )
        try:
            runner.execute()
        except CellExecutionError:
            _scrub_notebook(nb, secrets)
            if target is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
                nbf.write(nb, str(target))
            raise
    scrubbed = _scrub_notebook(nb, secrets)
    if scrubbed:
        logger.warning("Removed secret values from %d notebook output(s).", scrubbed)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        nbf.write(nb, str(target))
    return nb

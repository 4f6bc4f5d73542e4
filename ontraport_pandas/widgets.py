"""Notebook widgets (ipywidgets): a connection picker and a plan preview with an Apply button.

* :class:`ConnectionPicker` lists the ways to reach Ontraport (the embedded sandbox,
  the API key from the environment when it is set, and Membrane: its connections with
  their state, or one "Membrane" entry when none is listed), connects to the one picked
  and says what it reached (account, LIVE or SANDBOX, contact count) or exactly how to
  fix it. What the Membrane CLI needs (installing it, logging in, connecting) is said
  only to users who pick a Membrane entry.
* :class:`PlanPreview` shows a plan as a diff with a LIVE / SANDBOX badge, applies it
  with a button (behind a confirmation tick-box when the plan is big or destructive),
  then shows the per-row result, failures first, and offers Undo.

Both are ipywidgets (``VBox`` subclasses): ``display(picker)``, ``picker.children``,
``picker.observe(callback, names="value")`` / ``names="client"`` and
``preview.observe(callback, names="result")`` work as for any widget, and they nest in
other boxes. ``value``, ``client``, ``result`` and ``undo_result`` are traits that are
*not* synchronised (nothing of them reaches the browser or the notebook file). The
``.widget`` attribute of earlier versions still answers the widget itself.

No secret ever goes into a widget trait: traits are synchronised to the browser and
saved in the notebook file. The picker's value is a *choice key* (``"sandbox"``,
``"env"``, ``"membrane:<id>"``, see :mod:`ontraport_pandas.notebook`), the API key
stays in the environment, and every message shown is scrubbed of secret values.
Where widgets cannot render (a terminal, a static notebook viewer) both objects show
plain text or HTML instead.
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    import ipywidgets as w
    import traitlets
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'ontraport_pandas.widgets needs ipywidgets: pip install "ontraport-pandas[notebook]"'
    ) from None


from ._connect import connections
from .context import default_client, set_default_client
from .errors import MembraneSetupError, OntraportError
from .notebook import (
    ENV_CHOICE,
    MEMBRANE_PREFIX,
    SANDBOX_CHOICE,
    connect_choice,
    env_credentials,
    secret_values,
)
from .plan import _fmt, visible_whitespace
from .schema import resolve_tz

if TYPE_CHECKING:
    from .client import Ontraport
    from .plan import Plan
    from .result import PushResult

__all__ = ["ConnectionPicker", "PlanPreview", "config_dir"]

logger = logging.getLogger(__name__)

SANDBOX_LABEL = "Sandbox (demo data)"
MEMBRANE_LABEL = "Membrane (connect through the Membrane CLI)"
ENV_LABEL = "API key from environment (ONTRAPORT_API_KEY)"
_LIVE_COLOR = "#c62828"
_SANDBOX_COLOR = "#2e7d32"
_MEMORY_FILE = "connection-picker.json"


def config_dir() -> Path:
    """The user's ontraport-pandas configuration folder.

    ``$ONTRAPORT_PANDAS_CONFIG_DIR`` when set; else ``%APPDATA%\\ontraport-pandas`` on
    Windows, ``~/Library/Application Support/ontraport-pandas`` on macOS and
    ``$XDG_CONFIG_HOME/ontraport-pandas`` (``~/.config/ontraport-pandas``) elsewhere.
    """
    env = os.environ.get("ONTRAPORT_PANDAS_CONFIG_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "ontraport-pandas"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "ontraport-pandas"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "ontraport-pandas"


def _scrub(text: str) -> str:
    for secret in secret_values():
        text = text.replace(secret, "***")
    return text


def _badge(live: bool, *, big: bool = False) -> str:
    color = _LIVE_COLOR if live else _SANDBOX_COLOR
    size = "font-size:1.1em;padding:3px 10px" if big else "padding:1px 7px"
    return (
        f'<span style="background:{color};color:white;{size};border-radius:3px;font-weight:bold;'
        f'letter-spacing:0.05em">{"LIVE" if live else "SANDBOX"}</span>'
    )


def _tree(root: w.Widget) -> list[w.Widget]:
    """``root`` and every widget inside it, children before their box."""
    out: list[w.Widget] = []
    for child in getattr(root, "children", ()):
        out.extend(_tree(child))
    out.append(root)
    return out


def _code(text: str) -> str:
    """HTML for a message, with `backticked` commands as <code>."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


# ------------------------------------------------------------------------------ the picker
class ConnectionPicker(w.VBox):
    """Pick how to reach Ontraport: a Membrane connection, the sandbox, or the API key in the environment.

    An ipywidgets ``VBox``: display it in a notebook cell, pick an entry, then use
    :attr:`client`. The status line says which account was reached (LIVE or SANDBOX,
    and its contact count), or what to run to fix the choice (``membrane connect
    --connectionId …`` for an unfinished Membrane connection, the install command when
    the Membrane CLI is missing: said only once a Membrane entry is picked).

    Parameters
    ----------
    value : str, optional
        The choice to connect at once: ``"sandbox"``, ``"env"`` or
        ``"membrane:<connection id>"``. Default: the last choice remembered, if it is
        still offered; else nothing is picked.
    set_default : bool
        Make each client picked the default client (:func:`ontraport_pandas.set_default_client`),
        so later cells need no argument.
    remember : bool
        Remember the last successful choice (its key only, never a secret) in
        ``connection-picker.json`` under :func:`config_dir`.
    membrane : bool
        List the Membrane connections (runs ``membrane connection list``).
    membrane_command : str or list of str, optional
        The membrane executable (default ``$ONTRAPORT_PANDAS_MEMBRANE`` or ``membrane``).
    sandbox_options : dict, optional
        Options of the embedded sandbox (``contacts``, ``seed``, ``rate_limit``…).
    tz : str or tzinfo, optional
        The time zone the picked client loads dates in (as ``opd.connect(tz=…)``; default UTC).
    **kwargs
        Passed to ``ipywidgets.VBox`` (``layout=``, …).

    Attributes
    ----------
    value : str or None
        Trait (not synchronised): the current choice key, never a secret. Setting it connects.
    client : Ontraport or None
        Trait (not synchronised): the client of the current choice, None until one connects.
    error : str or None
        The last problem, as shown in the status line.
    dropdown, refresh_button, status, note
        The parts (also in :attr:`children`).

    Examples
    --------
    >>> picker = opd.widgets.ConnectionPicker(set_default=True)
    >>> picker.value = "sandbox"        # what picking "sandbox" in the dropdown does
    >>> picker.client
    <Ontraport SANDBOX: ...>
    >>> picker.client is opd.default_client()   # later cells need no client argument
    True

    ``picker.observe(callback, names="client")`` calls back on every change of the client (None
    while a new choice connects).
    """

    value = traitlets.Unicode(None, allow_none=True, help="The choice key (never a secret).")
    client = traitlets.Any(None, allow_none=True, help="The client of the current choice.")

    def __init__(
        self,
        *,
        value: str | None = None,
        set_default: bool = False,
        remember: bool = True,
        membrane: bool = True,
        membrane_command: str | list[str] | None = None,
        sandbox_options: dict[str, Any] | None = None,
        tz: Any = None,
        **kwargs: Any,
    ) -> None:
        self.tz = resolve_tz(tz)  # a bad zone fails here, before anything is listed or connected
        self.set_default = set_default
        self.remember = remember
        self.membrane = membrane
        self.membrane_command = membrane_command
        self.sandbox_options = dict(sandbox_options or {})
        self.error: str | None = None
        self.contact_count: int | None = None
        self._clients: dict[str, Ontraport] = {}
        self._callbacks: list[Callable[[Ontraport | None], None]] = []
        self._membrane_states: dict[str, str] = {}
        self._membrane_note = ""
        self._syncing = False

        self.dropdown = w.Dropdown(
            options=[], value=None, description="Connection", layout=w.Layout(width="min(36em, 100%)")
        )
        self.refresh_button = w.Button(
            description="Refresh",
            icon="refresh",
            tooltip="List the connections again",
            layout=w.Layout(width="auto"),
        )
        self.status = w.HTML(value="")
        self.note = w.HTML(value="")
        kwargs.setdefault("layout", w.Layout(border="1px solid #e0e0e0", padding="6px"))
        super().__init__(
            children=[w.HBox([self.dropdown, self.refresh_button]), self.status, self.note], **kwargs
        )
        self.add_class("ontraport-connection-picker")
        self._load_options()
        self.dropdown.observe(self._on_dropdown, names="value")
        self.refresh_button.on_click(lambda _b: self.refresh())

        if value is None and remember:
            remembered = self._recall()
            if remembered in self.choices:
                value = remembered
        if value is not None:
            self.value = value
        else:
            self._show_status()

    @property
    def widget(self) -> ConnectionPicker:
        """The picker itself (it is the widget; kept for code written for earlier versions)."""
        return self

    # -- choices ------------------------------------------------------------------------
    @property
    def choices(self) -> dict[str, str]:
        """Choice key -> label, as offered in the dropdown."""
        return {key: label for label, key in self.dropdown.options}

    def _load_options(self) -> None:
        options: list[tuple[str, str]] = []
        self._membrane_states = {}
        self._membrane_note = ""
        membrane = self._membrane_options() if self.membrane else []
        listed = [o for o in membrane if o[1] != MEMBRANE_PREFIX]
        options += listed
        options.append((SANDBOX_LABEL, SANDBOX_CHOICE))
        if env_credentials():
            options.append((ENV_LABEL, ENV_CHOICE))
        options += [o for o in membrane if o[1] == MEMBRANE_PREFIX]  # "set up Membrane" goes last
        current = self.dropdown.value
        keys = {k for _, k in options}
        if current is not None and current not in keys and current.startswith(MEMBRANE_PREFIX):
            options.append((f"Membrane: {current[len(MEMBRANE_PREFIX) :]}", current))  # keep a chosen one
            keys.add(current)
        self._syncing = True
        try:
            with self.dropdown.hold_trait_notifications():
                self.dropdown.options = options
                self.dropdown.value = current if current in keys else None
        finally:
            self._syncing = False
        self._show_note()

    def _membrane_options(self) -> list[tuple[str, str]]:
        try:
            frame = connections(self.membrane_command)
        except MembraneSetupError as exc:
            self._membrane_note = f"Membrane: {exc}"
            return [(MEMBRANE_LABEL, MEMBRANE_PREFIX)]
        except OntraportError as exc:
            self._membrane_note = f"Membrane connections could not be listed ({type(exc).__name__}): {exc}"
            return [(MEMBRANE_LABEL, MEMBRANE_PREFIX)]
        text = (
            frame["integration"].fillna("").astype(str) + " " + frame["name"].fillna("").astype(str)
        ).str.lower()
        ontraport = frame[text.str.contains("ontraport", regex=False)]
        others = len(frame) - len(ontraport)
        options = []
        for row in ontraport.itertuples(index=False):
            key = f"{MEMBRANE_PREFIX}{row.id}"
            state = str(row.state or "READY")
            self._membrane_states[key] = state
            options.append((f"Membrane: {row.name or row.id} [{state}]", key))
        if not options:
            self._membrane_note = (
                "Membrane: no connection to Ontraport yet. Create one with "
                "`membrane search ontraport --elementType=connector --json`, then "
                "`membrane connect --connectorId <id> --json`."
            )
            options.append((MEMBRANE_LABEL, MEMBRANE_PREFIX))
        elif others:
            self._membrane_note = f"Membrane: {others} connection(s) to other apps not shown."
        return options

    def refresh(self) -> None:
        """List the connections again and re-check the current choice (its client is kept)."""
        self._load_options()
        key = self.dropdown.value
        if key is not None:
            self._pick(key)
        else:
            self._show_status()

    # -- value ----------------------------------------------------------------------------
    @traitlets.validate("value")
    def _check_value(self, proposal: dict[str, Any]) -> str | None:
        key = proposal["value"]
        if key is None:
            return None
        key = str(key)
        if key not in self.choices:
            if key == ENV_CHOICE:
                raise ValueError(
                    "The 'env' choice needs ONTRAPORT_APP_ID and ONTRAPORT_API_KEY in the environment."
                )
            if key.startswith(MEMBRANE_PREFIX) and key[len(MEMBRANE_PREFIX) :]:
                # Not listed (the listing failed or is stale): offer it, connecting says what is wrong.
                self._syncing = True
                try:
                    self.dropdown.options = [
                        *self.dropdown.options,
                        (f"Membrane: {key[len(MEMBRANE_PREFIX) :]}", key),
                    ]
                finally:
                    self._syncing = False
            else:
                raise ValueError(f"Unknown connection choice {key!r}; offered: {', '.join(self.choices)}")
        if key == self.value and not self._syncing:
            self._pick(key)  # the same value sends no change: connect (again) here
        return key

    @traitlets.observe("value")
    def _value_changed(self, change: dict[str, Any]) -> None:
        key = change["new"]
        self._syncing = True
        try:
            self.dropdown.value = key
        finally:
            self._syncing = False
        if key is None:
            self._drop_current()
            self.error = None
            self._show_status()
            self._show_note()
            self._notify()
            return
        self._pick(str(key))

    def on_change(self, callback: Callable[[Ontraport | None], None]) -> None:
        """Call ``callback(client)`` after each pick (``client`` is None when connecting failed).

        The ipywidgets way works too: ``picker.observe(callback, names="client")``.
        """
        self._callbacks.append(callback)

    def _on_dropdown(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        key = change.get("new")
        self.value = None if key is None else str(key)

    def _drop_current(self) -> None:
        if self.set_default and self.client is not None and default_client(required=False) is self.client:
            set_default_client(None)
        self.client = None
        self.contact_count = None

    # -- connecting -------------------------------------------------------------------------
    def _pick(self, key: str) -> None:
        self._drop_current()
        self.error = None
        self._show_note()
        if key == MEMBRANE_PREFIX:  # "Membrane" with no connection listed: say what to do
            self.error = _scrub(
                self._membrane_note or "Membrane: no connection to Ontraport is listed; press Refresh."
            )
            self._show_status()
            self._notify()
            return
        self.status.value = (
            f"<span style='color:#757575'>Connecting to {html.escape(self.choices.get(key, key))}…</span>"
        )
        try:
            client = self._clients.get(key)
            if client is None:
                client = connect_choice(
                    key, sandbox_options=self.sandbox_options, membrane_command=self.membrane_command
                )
                client.tz = self.tz
                self._clients[key] = client
            count = _probe_count(client)
        except OntraportError as exc:
            self._clients.pop(key, None)
            self.error = _scrub(self._explain(key, exc))
        except Exception as exc:  # a widget callback must not raise into the kernel's comm handler
            self._clients.pop(key, None)
            self.error = _scrub(f"{type(exc).__name__}: {exc}")
            logger.debug("connection picker: %s failed", key, exc_info=True)
        else:
            self.client = client
            self.contact_count = count
            if self.set_default:
                set_default_client(client)
            if self.remember:
                self._memorize(key)
        self._show_status()
        self._notify()

    def _explain(self, key: str, exc: OntraportError) -> str:
        from .errors import AuthenticationError

        text = f"{type(exc).__name__}: {exc}"
        if key == ENV_CHOICE and isinstance(exc, AuthenticationError):
            text += " Check ONTRAPORT_APP_ID and ONTRAPORT_API_KEY (then restart the kernel and pick again)."
        state = self._membrane_states.get(key)
        if state and state != "READY" and "membrane connect" not in text:
            cid = key[len(MEMBRANE_PREFIX) :]
            text += f" Finish the connection with `membrane connect --connectionId {cid}`."
        return text

    def _notify(self) -> None:
        for callback in list(self._callbacks):
            try:
                callback(self.client)
            except Exception:
                logger.exception("connection picker: an on_change callback failed")

    # -- display ---------------------------------------------------------------------------
    def status_text(self) -> str:
        """The status line as plain text."""
        if self.error:
            return f"Not connected: {self.error}"
        if self.client is None:
            return "Pick a connection."
        mode = "LIVE" if self.client.live else "SANDBOX"
        count = "" if self.contact_count is None else f" · {self.contact_count:,} contacts"
        return f"{mode} · {self.client.name}{count}"

    def _show_status(self) -> None:
        if self.error:
            self.status.value = (
                f"<div style='color:{_LIVE_COLOR}'>✖ <b>Not connected.</b> {_code(self.error)}</div>"
            )
        elif self.client is None:
            self.status.value = "<span style='color:#757575'>Pick a connection.</span>"
        else:
            count = "" if self.contact_count is None else f" · <b>{self.contact_count:,}</b> contacts"
            self.status.value = f"{_badge(self.client.live)} {html.escape(self.client.name)}{count}"

    def _membrane_picked(self) -> bool:
        return bool(self.value and self.value.startswith(MEMBRANE_PREFIX))

    def _show_note(self) -> None:
        # Membrane's needs are news only to those who chose Membrane
        note = _scrub(self._membrane_note) if self._membrane_picked() else ""
        self.note.value = f"<small style='color:#757575'>{_code(note)}</small>" if note else ""

    def __repr__(self) -> str:
        lines = [f"ConnectionPicker(value={self.value!r}): {self.status_text()}"]
        lines += [
            f"  {'*' if key == self.value else ' '} {key:<28} {label}" for key, label in self.choices.items()
        ]
        if self._membrane_note and self._membrane_picked():
            lines.append(f"  note: {_scrub(self._membrane_note)}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<div class='ontraport-connection-picker'>{self.status.value}<br>{self.note.value}</div>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = repr(self)
        bundle["text/html"] = self._repr_html_()
        return bundle

    def close(self) -> None:
        """Close the widgets and the clients this picker opened (``picker.client`` stops working)."""
        if not hasattr(self, "_clients"):  # __init__ failed early: nothing of ours to close
            super().close()
            return
        self._drop_current()
        for client in self._clients.values():
            try:
                client.close()
            except Exception:
                logger.debug("closing a picked client failed", exc_info=True)
        self._clients.clear()
        for widget in _tree(self)[:-1]:
            widget.close()
        super().close()

    def __del__(self) -> None:
        # ipywidgets closes a widget when it is garbage-collected; a client taken from the
        # picker (``op = picker.client``) must keep working, so only the widget is closed here.
        try:
            w.VBox.close(self)
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    # -- memory ------------------------------------------------------------------------------
    def _memory_path(self) -> Path:
        return config_dir() / _MEMORY_FILE

    def _recall(self) -> str | None:
        try:
            data = json.loads(self._memory_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        choice = data.get("choice") if isinstance(data, dict) else None
        return choice if isinstance(choice, str) else None

    def _memorize(self, key: str) -> None:
        path = self._memory_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"choice": key}), encoding="utf-8")
            tmp.replace(path)
        except OSError:
            logger.debug("could not remember the connection choice in %s", path, exc_info=True)


# ------------------------------------------------------------------------------ plan preview
_ROW_STYLE = {"delete": "background:#ffebee", "create": "background:#e8f5e9"}


class PlanPreview(w.VBox):
    """A plan's diff with an Apply button, then its per-row result and an Undo button.

    An ipywidgets ``VBox``: ``display(preview)``, ``preview.children`` and
    ``preview.observe(callback, names="result")`` (or ``"undo_result"``) work as for any widget.

    Parameters
    ----------
    plan : Plan
        From ``op.plan(edited)``.
    max_rows : int
        Changes shown in the diff table (``plan.to_frame()`` has them all).
    progress : bool, optional
        Progress bar while applying (default: in notebooks).
    **kwargs
        Passed to ``ipywidgets.VBox`` (``layout=``, …).

    Attributes
    ----------
    header, diff, status, output : ipywidgets.HTML
        The parts (also in :attr:`children`); ``progress_area`` is the Output that shows
        progress bars while applying.
    apply_button, undo_button : ipywidgets.Button
    confirm : ipywidgets.Checkbox or None
        Present when the plan is big or destructive (``plan.confirm_required``): Apply
        stays disabled until it is ticked.
    result : PushResult or None
        Trait (not synchronised): the outcome once applied.
    undo_result : PushResult or None
        Trait (not synchronised): the outcome of Undo.
    error : str or None
        The last problem shown.

    Examples
    --------
    >>> op = opd.connect("sandbox")
    >>> contacts = op.contacts(limit=3)
    >>> preview = opd.widgets.PlanPreview(op.plan(contacts.assign(firstname="Ann")))
    >>> preview.apply_button.click()    # what clicking Apply does, after reviewing the table
    >>> preview.result.ok
    True
    """

    result = traitlets.Any(None, allow_none=True, help="The PushResult once applied.")
    undo_result = traitlets.Any(None, allow_none=True, help="The PushResult of Undo.")

    def __init__(
        self, plan: Plan, *, max_rows: int = 200, progress: bool | None = None, **kwargs: Any
    ) -> None:
        self.plan = plan
        self.max_rows = max_rows
        self.progress = progress
        self.error: str | None = None
        self.live = bool(plan.client.live)
        self.needs_confirm = plan.confirm_required

        self.header = w.HTML(value=self._header_html())
        self.diff = w.HTML(value=self._diff_html())
        self.confirm: w.Checkbox | None = None
        if self.needs_confirm is not None:
            self.confirm = w.Checkbox(
                value=False,
                indent=False,
                description=f"I have reviewed this plan: it affects {self.needs_confirm:,} records{self._danger_text()}.",
                layout=w.Layout(width="auto"),
            )
            self.confirm.observe(lambda _c: self._sync_buttons(), names="value")
        where = "LIVE account" if self.live else "sandbox"
        self.apply_button = w.Button(
            description=f"Apply to {where}" if not plan.empty else "Nothing to apply",
            button_style="danger" if self.live else "success",
            icon="upload",
            layout=w.Layout(width="auto"),
        )
        self.undo_button = w.Button(
            description="Undo",
            icon="undo",
            button_style="warning",
            disabled=True,
            layout=w.Layout(width="auto"),
        )
        self.status = w.HTML(value="")
        self.output = w.HTML(value="")
        self.progress_area = w.Output()  # progress bars while applying
        self.apply_button.on_click(lambda _b: self.apply())
        self.undo_button.on_click(lambda _b: self.undo())
        controls: list[w.Widget] = [*([self.confirm] if self.confirm is not None else [])]
        controls.append(w.HBox([self.apply_button, self.undo_button]))
        kwargs.setdefault(
            "layout",
            w.Layout(border=f"2px solid {_LIVE_COLOR if self.live else _SANDBOX_COLOR}", padding="6px"),
        )
        super().__init__(
            children=[self.header, self.diff, *controls, self.status, self.progress_area, self.output],
            **kwargs,
        )
        self.add_class("ontraport-plan-preview")
        self._sync_buttons()

    @property
    def widget(self) -> PlanPreview:
        """The preview itself (it is the widget; kept for code written for earlier versions)."""
        return self

    @property
    def badge(self) -> str:
        """``"LIVE"`` or ``"SANDBOX"``."""
        return "LIVE" if self.live else "SANDBOX"

    # -- rendering -------------------------------------------------------------------------
    def _danger_text(self) -> str:
        c = self.plan.counts
        parts = []
        if c["delete"]:
            parts.append(f"deletes {c['delete']:,}")
        if c["clears"]:
            parts.append(f"clears {c['clears']:,} cells")
        if c.get("tag_removals"):
            parts.append(f"removes {c['tag_removals']:,} tags from rows")
        if c.get("unsubscriptions"):
            parts.append(f"takes rows out of sequences or automations {c['unsubscriptions']:,} times")
        return f" ({', '.join(parts)})" if parts else ""

    def _header_html(self) -> str:
        plan = self.plan
        c = plan.counts
        esc = html.escape
        target = "writes go to real Ontraport data" if self.live else "writes go to the sandbox"
        chips = [
            ("updates", c["update"], f"{c['cells']:,} cells"),
            (
                "creates",
                c["create"],
                f"{c['matched_creates']:,} match an e-mail" if c["matched_creates"] else "",
            ),
            ("tag changes", c["add_tags"] + c["remove_tags"], f"{c['tagged_rows']:,} rows"),
            ("sequence changes", c["subscribe"] + c["unsubscribe"], f"{c['member_rows']:,} rows"),
            ("clears", c["clears"], ""),
            ("deletes", c["delete"], ""),
        ]
        cells = "".join(
            f"<td style='padding:2px 12px;text-align:center'><b style='font-size:1.2em'>{n:,}</b><br>{label}"
            f"{'<br><small>' + esc(extra) + '</small>' if extra else ''}</td>"
            for label, n, extra in chips
        )
        return (
            f"<div>{_badge(self.live, big=True)} <b>Plan for {esc(plan.object_type.name)}</b> on "
            f"{esc(plan.client.name)} <small>({target})</small></div>"
            f"<table style='margin:4px 0'><tr>{cells}</tr></table>"
        )

    def _diff_html(self) -> str:
        frame, total = self.plan.to_frame(limit=self.max_rows), self.plan.changes
        if frame.empty:
            return "<p>Nothing to write: the edited frame matches the records.</p>"
        esc = html.escape
        rows = []
        head = frame.head(self.max_rows)
        olds, news = visible_whitespace(
            head["old"].tolist(), head["new"].tolist()
        )  # 'Ann' -> 'Ann ' shown quoted
        for r, old, shown in zip(head.itertuples(index=False), olds, news, strict=True):
            style = _ROW_STYLE.get(str(r.kind), "background:#fff8e1" if r.clear else "")
            record = _fmt(r.record_id) or _fmt(r.row)
            new = "(clear)" if r.clear else _fmt(shown)
            rows.append(
                f"<tr style='{style}'><td>{esc(record)}</td><td>{esc(str(r.kind))}</td>"
                f"<td>{esc(_fmt(r.column))}</td><td style='white-space:pre-wrap'>{esc(_fmt(old))}</td>"
                f"<td style='white-space:pre-wrap'>{esc(new)}</td></tr>"
            )
        more = (
            f"<p><small>… {total - self.max_rows:,} more change(s): <code>plan.to_frame()</code></small></p>"
            if total > self.max_rows
            else ""
        )
        return (
            "<div style='max-height:22em;overflow:auto'><table class='ontraport-diff'>"
            "<thead><tr><th>record</th><th>kind</th><th>column</th><th>old</th><th>→ new</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>{more}"
        )

    def _sync_buttons(self) -> None:
        applied = self.result is not None
        confirmed = self.confirm is None or bool(self.confirm.value)
        self.apply_button.disabled = applied or self.plan.empty or not confirmed
        if self.confirm is not None:
            self.confirm.disabled = applied
        self.undo_button.disabled = not applied or self.undo_result is not None or self._ok_rows() == 0

    def _ok_rows(self) -> int:
        if self.result is None:
            return 0
        return int((self.result.frame["status"] == "ok").sum())

    # -- actions ---------------------------------------------------------------------------
    def apply(self) -> PushResult | None:
        """Apply the plan (what the Apply button does); returns the result, or None if not applied.

        A plan that needs confirmation is applied only after the tick-box is ticked
        (``preview.confirm.value = True``). Applying twice returns the first result.
        """
        if self.result is not None:
            return self.result
        if self.plan.empty:
            self.status.value = "Nothing to apply."
            return None
        if self.confirm is not None and not self.confirm.value:
            self.error = "Tick the confirmation box first: this plan is big or destructive."
            self.status.value = f"<span style='color:{_LIVE_COLOR}'>{html.escape(self.error)}</span>"
            return None
        self.error = None
        self.apply_button.disabled = True
        self.status.value = "<span style='color:#757575'>Applying…</span>"
        try:
            with self.progress_area:
                result = self.plan.apply(confirm=self.needs_confirm, progress=self.progress)
        except Exception as exc:  # shown, not raised: a button callback has nowhere to raise to
            self.error = _scrub(f"{type(exc).__name__}: {exc}")
            self.status.value = f"<span style='color:{_LIVE_COLOR}'>✖ Not applied. {_code(self.error)}</span>"
            self._sync_buttons()
            return None
        self.result = result
        self.status.value = self._result_line(result, "Applied")
        self.output.value = _scrub(self._result_html(result))
        self._sync_buttons()
        return result

    def undo(self) -> PushResult | None:
        """Restore what the applied plan changed (what the Undo button does)."""
        if self.result is None:
            self.status.value = "Nothing to undo: the plan was not applied."
            return None
        if self.undo_result is not None:
            return self.undo_result
        self.undo_button.disabled = True
        try:
            with self.progress_area:
                undone = self.result.undo(progress=self.progress)
        except Exception as exc:
            self.error = _scrub(f"{type(exc).__name__}: {exc}")
            self.status.value = f"<span style='color:{_LIVE_COLOR}'>✖ Undo failed. {_code(self.error)}</span>"
            self._sync_buttons()
            return None
        self.undo_result = undone
        self.status.value = self._result_line(undone, "Undone")
        self.output.value = _scrub(self._result_html(undone))
        self._sync_buttons()
        return undone

    @staticmethod
    def _result_line(result: PushResult, verb: str) -> str:
        counts = result.frame["status"].value_counts().to_dict() if len(result.frame) else {}
        text = ", ".join(f"{n:,} {s}" for s, n in counts.items()) or "nothing sent"
        color = _SANDBOX_COLOR if result.ok else _LIVE_COLOR
        mark = "✔" if result.ok else "⚠"
        return f"<span style='color:{color}'>{mark} <b>{verb}</b>: {html.escape(text)}</span>"

    def _result_html(self, result: PushResult) -> str:
        frame = result.frame
        order = {"failed": 0, "unknown": 1, "conflict": 2, "skipped": 3, "ok": 4}
        if len(frame):
            frame = frame.iloc[frame["status"].map(order).fillna(4).argsort(kind="stable")]
        shown = frame.head(self.max_rows)
        table = shown.to_html(index=False, na_rep="", max_cols=12, escape=True)
        return f"{result.summary().to_html()}<div style='max-height:22em;overflow:auto'>{table}</div>" + (
            f"<p><small>journal: <code>{html.escape(str(result.journal))}</code></small></p>"
            if result.journal is not None
            else "<p><small>nothing was sent, so no journal was written</small></p>"
        )

    # -- display ---------------------------------------------------------------------------
    def __repr__(self) -> str:
        state = "not applied"
        if self.undo_result is not None:
            state = "applied, then undone"
        elif self.result is not None:
            state = "applied" if self.result.ok else "applied with problems"
        return f"PlanPreview [{self.badge}] ({state})\n{self.plan!r}"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = repr(self)
        bundle["text/html"] = self.header.value + self.diff.value + self.status.value + self.output.value
        return bundle

    def close(self) -> None:
        """Close the widgets."""
        for widget in _tree(self)[:-1]:
            widget.close()
        super().close()


#: Tries the picker's first request gets: a connection that can't be reached is said at once
#: (a few seconds), not after the half minute a load's pages may retry for.
PROBE_ATTEMPTS = 3


def _probe_count(client: Ontraport) -> int:
    """The contact count the picker shows, asked with a short retry budget; the client keeps its own."""
    session = client.session
    kept = session.retry
    session.retry = dataclasses.replace(kept, attempts=min(kept.attempts, PROBE_ATTEMPTS))
    try:
        return client.count("contacts")
    finally:
        session.retry = kept

"""``opd.connect``: build a client for one of the three backends.

* ``opd.connect("sandbox")``: the embedded Ontraport simulator with demo data,
  in-process. Never chosen by default: ``opd.connect()`` without credentials raises
  :class:`~ontraport_pandas.ConfigurationError` naming the variables to set, so a
  scheduled job with unset variables fails instead of reporting fake data;
* ``opd.connect(app_id=…, api_key=…)`` or the environment variables
  ``ONTRAPORT_APP_ID`` / ``ONTRAPORT_API_KEY``: the REST API over HTTPS
  (``base_url=`` or a URL as first argument points at another server, such as a
  sandbox served with ``ontraport-pandas sandbox serve``);
* ``opd.connect(membrane="conn_123")``: through the Membrane CLI.
"""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
import weakref
from typing import Any

from .client import Ontraport
from .errors import ConfigurationError
from .schema import resolve_tz
from .session import RetryPolicy
from .transports.base import display_url, is_loopback

__all__ = ["connect", "connect_membrane"]

_SANDBOX_OPTIONS = {
    "seed",
    "contacts",
    "size",
    "path",
    "rate_limit",
    "rate_window",
    "latency",
    "fault_rate",
    "fault_kinds",
    "fault_sleep",
    "fault_seed",
    "default_order",
    "text_collation",
    "condition_order",
    "access",
    "clock",
}


def connect(
    target: str | None = None,
    *,
    app_id: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    membrane: str | bool | None = None,
    membrane_command: str | list[str] | None = None,
    membrane_mode: str = "auto",
    membrane_writes: str = "auto",
    timeout: float | None = None,
    max_workers: int = 8,
    cache_dir: str | None = None,
    tz: str | datetime.tzinfo | None = None,
    retries: int | RetryPolicy | None = None,
    **sandbox_options: Any,
) -> Ontraport:
    """Connect to Ontraport, the sandbox, or Ontraport through Membrane.

    Parameters
    ----------
    target : str, optional
        ``"sandbox"`` for the embedded simulator, or a base URL
        (``"http://127.0.0.1:8765/1/"``). Without it: the REST API with the
        credentials given or set in the environment; with neither, a
        :class:`~ontraport_pandas.ConfigurationError` that names the variables to set
        (the sandbox is never a silent fallback).
    app_id, api_key : str, optional
        REST credentials; default ``ONTRAPORT_APP_ID`` / ``ONTRAPORT_API_KEY``.
    base_url : str, optional
        The API root (default ``https://api.ontraport.com/1/``).
    membrane : str or True, optional
        A Membrane connection id, or True for the only READY Ontraport connection.
    membrane_command : str or list of str, optional
        The membrane executable (default ``ONTRAPORT_PANDAS_MEMBRANE`` or ``membrane``).
    membrane_mode : {"auto", "proxy", "cli"}
        How requests reach a Membrane connection: its HTTP proxy route with a token from
        ``membrane token`` (``"proxy"``), ``membrane request`` (``"cli"``), or the proxy
        when a token can be had, else the CLI (``"auto"``). ``op.backend`` says which.
    membrane_writes : {"auto", "actions", "rest"}
        How pushes write contacts on Membrane: hosted actions when their input schemas
        can be read, else REST (``"auto"``); only hosted actions; only REST.
    timeout : float, optional
        Per-request timeout in seconds.
    max_workers : int
        Requests in flight at once during loads and pushes.
    cache_dir : str, optional
        Where ``frame(cache=True)`` keeps records (default ``ONTRAPORT_PANDAS_CACHE_DIR``
        or ``~/.cache/ontraport-pandas``).
    tz : str or tzinfo, optional
        The time zone dates load in (``"Europe/Paris"``), so that date columns show local
        time and reports bucket days and months locally. The Ontraport API documents no
        account time zone, so the default is UTC. The instants are the same in any zone:
        writing converts back to unix seconds.
    retries : int or RetryPolicy, optional
        How reads that fail with a 5xx, a dropped connection or a timeout are retried:
        a number of retries after the first try (``0`` = none), or a
        :class:`~ontraport_pandas.RetryPolicy` (tries, pauses, 429 waits). Default
        ``RetryPolicy()``: 12 tries per request, so each page of a load has its own
        budget and a load survives a 40 % fault rate. A load whose pages still fail
        raises :class:`~ontraport_pandas.IncompleteLoadError` carrying the rows it got.
    **sandbox_options
        For the sandbox: ``seed``, ``contacts`` (or ``size``), ``path`` (keep state in a
        file), ``rate_limit`` (requests a minute, None for none), ``latency`` (seconds per
        request), ``fault_rate``, … (see :class:`ontraport_pandas.sandbox.SandboxConfig`).

    Returns
    -------
    Ontraport
        The client ``op``.

    Examples
    --------
    >>> op = opd.connect("sandbox", seed=1)
    >>> op.live
    False
    """
    unknown = set(sandbox_options) - _SANDBOX_OPTIONS
    if unknown:
        raise TypeError(f"connect() got unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    zone = resolve_tz(tz)  # checked before any I/O
    policy = RetryPolicy.of(retries)
    op = _connect(
        target,
        app_id=app_id,
        api_key=api_key,
        base_url=base_url,
        membrane=membrane,
        membrane_command=membrane_command,
        membrane_mode=membrane_mode,
        membrane_writes=membrane_writes,
        timeout=timeout,
        max_workers=max_workers,
        cache_dir=cache_dir,
        **sandbox_options,
    )
    op.session.retry = policy
    op.tz = zone
    return op


def _connect(
    target: str | None,
    *,
    app_id: str | None,
    api_key: str | None,
    base_url: str | None,
    membrane: str | bool | None,
    membrane_command: str | list[str] | None,
    membrane_mode: str,
    membrane_writes: str,
    timeout: float | None,
    max_workers: int,
    cache_dir: str | None,
    **sandbox_options: Any,
) -> Ontraport:
    if membrane is not None and membrane is not False:
        if target is not None or app_id or api_key:
            raise ConfigurationError("Pass either membrane= or REST credentials / a target, not both.")
        return connect_membrane(
            membrane,
            command=membrane_command,
            timeout=timeout,
            max_workers=max_workers,
            mode=membrane_mode,
            writes=membrane_writes,
        )
    if target is None and not (app_id or api_key or base_url):
        _require_credentials(sandbox_options)
    if target == "sandbox":
        op = _connect_sandbox(max_workers=max_workers, **sandbox_options)
        if cache_dir is not None:
            op.cache_dir = cache_dir
        return op
    if sandbox_options:
        raise TypeError(f"Sandbox options ({', '.join(sorted(sandbox_options))}) need connect('sandbox').")
    if target is not None:
        if not target.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"Unknown connection target {target!r}: use 'sandbox', a base URL, app_id=/api_key=, or membrane=."
            )
        base_url = target
    from .transports.http import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, HTTPTransport

    app_id = app_id or os.environ.get("ONTRAPORT_APP_ID")
    api_key = api_key or os.environ.get("ONTRAPORT_API_KEY")
    if not app_id or not api_key:
        raise ConfigurationError(
            "No Ontraport credentials: pass app_id= and api_key=, set ONTRAPORT_APP_ID and "
            "ONTRAPORT_API_KEY, use connect('sandbox') for demo data, or connect(membrane=…)."
        )
    url = base_url or DEFAULT_BASE_URL
    shown = display_url(url)  # never the user info of a URL like http://user:secret@host/1/
    loopback = is_loopback(url)
    transport = HTTPTransport(
        app_id,
        api_key,
        base_url=url,
        timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
        live=not loopback,
        name=f"Sandbox served at {shown}" if loopback else None,
        max_connections=max(16, max_workers),
    )
    return Ontraport(transport, max_workers=max_workers, cache_dir=cache_dir, cache_key=f"{shown}|{app_id}")


def _require_credentials(sandbox_options: dict[str, Any]) -> None:
    """``connect()`` without a target: the REST API from the environment, never the sandbox by default."""
    if sandbox_options:
        raise ConfigurationError(
            f"Sandbox options ({', '.join(sorted(sandbox_options))}) need connect('sandbox', …)."
        )
    missing = [name for name in ("ONTRAPORT_APP_ID", "ONTRAPORT_API_KEY") if not os.environ.get(name)]
    if missing:
        raise ConfigurationError(
            "opd.connect() found no Ontraport credentials: "
            + " and ".join(missing)
            + (" is" if len(missing) == 1 else " are")
            + " not set. Set ONTRAPORT_APP_ID and ONTRAPORT_API_KEY (or pass app_id= and api_key=) "
            "for your account, use opd.connect(membrane=…) for a Membrane connection, or "
            'opd.connect("sandbox") for the demo data.'
        )


def connect_membrane(
    connection: str | bool,
    *,
    command: str | list[str] | None = None,
    timeout: float | None = None,
    max_workers: int = 8,
    env: dict[str, str] | None = None,
    mode: Any = "auto",
    writes: Any = "auto",
) -> Ontraport:
    """A client over a Membrane connection (see :func:`~ontraport_pandas.transports.membrane.open_membrane`)."""
    from .transports.membrane import open_membrane

    transport = open_membrane(
        connection,
        command=command,
        timeout=timeout,
        max_workers=max_workers,
        env=env,
        mode=mode,
        writes=writes,
    )
    return Ontraport(transport, max_workers=max_workers)


def connections(command: str | list[str] | None = None) -> Any:
    """The Membrane connections as a DataFrame: id, name, state, integration, created, updated.

    This is ``opd.connections()``; the connection picker lists the same.

    Parameters
    ----------
    command : str or list of str, optional
        The membrane executable (default ``ONTRAPORT_PANDAS_MEMBRANE`` or ``membrane``).
    """
    from .transports.membrane import connections_frame

    return connections_frame(command)


def _connect_sandbox(*, max_workers: int, **options: Any) -> Ontraport:
    from .sandbox import SandboxConfig, create_app
    from .transports.http import sandbox_transport

    if "size" in options:
        options["contacts"] = options.pop("size")
    config = SandboxConfig(**options)
    app = create_app(config)
    transport = sandbox_transport(app, app_id=config.app_id, api_key=config.api_key)
    if config.path:
        # A file-backed sandbox keeps its state: its record cache may live across runs.
        op = Ontraport(
            transport, max_workers=max_workers, cache_key=f"sandbox-file:{os.path.abspath(config.path)}"
        )
    else:
        # An in-memory sandbox is new each time: its record cache lives only as long as the client.
        cache_dir = tempfile.mkdtemp(prefix="ontraport-pandas-cache-")
        op = Ontraport(transport, max_workers=max_workers, cache_dir=cache_dir, cache_key="sandbox-memory")
        weakref.finalize(op, shutil.rmtree, cache_dir, ignore_errors=True)
    op.sandbox = app
    return op

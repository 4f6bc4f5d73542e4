"""``opd.connect``: build a client for one of the three backends.

* ``opd.connect("sandbox")`` (or no argument and no credentials in the
  environment): the embedded Ontraport simulator with demo data, in-process;
* ``opd.connect(app_id=…, api_key=…)`` or the environment variables
  ``ONTRAPORT_APP_ID`` / ``ONTRAPORT_API_KEY``: the REST API over HTTPS
  (``base_url=`` or a URL as first argument points at another server, such as a
  sandbox served with ``ontraport-pandas sandbox serve``);
* ``opd.connect(membrane="conn_123")``: through the Membrane CLI.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from typing import Any

from .client import Ontraport
from .errors import ConfigurationError

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
    **sandbox_options: Any,
) -> Ontraport:
    """Connect to Ontraport, the sandbox, or Ontraport through Membrane.

    Parameters
    ----------
    target : str, optional
        ``"sandbox"`` for the embedded simulator, or a base URL
        (``"http://127.0.0.1:8765/1/"``). Without it: the REST API when credentials
        are given or set in the environment, else the sandbox.
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
    if target == "sandbox" or (
        target is None
        and not (app_id or api_key or base_url)
        and not (os.environ.get("ONTRAPORT_APP_ID") and os.environ.get("ONTRAPORT_API_KEY"))
    ):
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
    loopback = url.startswith(("http://127.", "http://localhost", "http://[::1]"))
    transport = HTTPTransport(
        app_id,
        api_key,
        base_url=url,
        timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
        live=not loopback,
        name=f"Sandbox served at {url}" if loopback else None,
        max_connections=max(16, max_workers),
    )
    return Ontraport(transport, max_workers=max_workers, cache_dir=cache_dir, cache_key=f"{url}|{app_id}")


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

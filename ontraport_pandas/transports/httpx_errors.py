"""httpx's exceptions as the toolkit's: the one mapping both HTTP routes use.

The plain HTTP transport and the Membrane proxy route both send with httpx. A failure
becomes :class:`~ontraport_pandas.errors.RequestTimeout` (no answer in time),
:class:`~ontraport_pandas.errors.ConnectionFailed` (the connection could not be made or
broke) or :class:`~ontraport_pandas.errors.TransportError` (the request could not be sent:
a bad URL, too many redirects, an undecodable answer). The message names the request and the
error class; ``scrub`` takes secrets out of httpx's own text first. The cause kept for the
traceback is a copy of httpx's error without its request, whose headers hold the credentials.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ..errors import ConnectionFailed, RequestTimeout, TransportError

__all__ = ["HTTPX_ERRORS", "from_httpx"]

#: What :func:`from_httpx` maps: every error httpx raises while sending (``InvalidURL`` is not an
#: ``HTTPError``).
HTTPX_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError, httpx.InvalidURL)


def _same(text: str) -> str:
    return text


def from_httpx(
    exc: Exception, method: str, path: str, *, via: str = "", scrub: Callable[[str], str] = _same
) -> tuple[TransportError, Exception]:
    """The toolkit's error for httpx's ``exc`` and the detached cause to chain it to.

    ``via`` names the route in the message (``" through the Membrane proxy at …"``). Raise the
    error outside the ``except`` block that caught ``exc`` (``raise error from cause``), so that
    neither ``__cause__`` nor ``__context__`` leads back to httpx's request.
    """
    text = scrub(str(exc))
    name = type(exc).__name__
    error: TransportError
    if isinstance(exc, httpx.TimeoutException):
        error = RequestTimeout(
            f"{method} {path}{via}: no answer within the timeout ({name})", method=method, path=path
        )
    elif isinstance(exc, httpx.TransportError):
        error = ConnectionFailed(
            f"{method} {path}{via}: the connection failed ({name}: {text})", method=method, path=path
        )
    else:
        error = TransportError(
            f"{method} {path}{via}: the request could not be sent ({name}: {text[:300]})",
            method=method,
            path=path,
        )
    try:
        cause = type(exc)(text)
    except Exception:  # an httpx error class with another signature
        cause = httpx.TransportError(text)
    return error, cause

"""Reading a spreadsheet export back as a typed frame: :func:`read_csv`.

``opd.read_csv(path, "contacts", client=op)`` reads every cell as text (so that zip codes keep
their leading zeros and a text ``"NA"`` stays text; only blank cells are missing) and hands the
frame to :meth:`Ontraport.coerce <ontraport_pandas.Ontraport.coerce>`. Rows are named by their
spreadsheet row number (the header is row 1), so a problem says which line to fix.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pandas as pd

from .context import default_client
from .errors import Problem, ValidationError

if TYPE_CHECKING:
    from .client import Ontraport

__all__ = ["read_csv"]


def read_csv(
    path: str | os.PathLike[str] | Any,
    object_type: str | int | None = None,
    *,
    client: Ontraport | None = None,
    **read_options: Any,
) -> pd.DataFrame:
    """Read a CSV written from an Ontraport frame (``df.to_csv()``, a Google Sheet, Excel) as a typed frame.

    Parameters
    ----------
    path : str, path or file-like
        What :func:`pandas.read_csv` accepts.
    object_type : str or int
        ``"contacts"``, ``"deals"``, …
    client : Ontraport, optional
        The connection whose field types apply (default: :func:`~ontraport_pandas.default_client`).
    **read_options
        Passed to :func:`pandas.read_csv` (``sep=``, ``encoding=``, …). By default every cell is read
        as text and only blank cells are missing.

    Returns
    -------
    pandas.DataFrame
        Typed and indexed by record id, ready for ``op.plan`` (see :meth:`Ontraport.coerce`).

    Raises
    ------
    ValidationError
        Every cell that does not fit, by spreadsheet row number, column and value.
        Also when the file cannot be read as CSV (missing, not text, malformed).
    """
    op = client if client is not None else default_client()
    assert op is not None
    options: dict[str, Any] = {"dtype": str, "keep_default_na": False, "na_values": [""]}
    options.update(read_options)
    try:
        frame = pd.read_csv(path, **options)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValidationError([Problem(None, None, str(path), f"cannot be read as CSV: {exc}")]) from exc
    if isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:
        frame.index = pd.RangeIndex(2, len(frame) + 2)
    return op.coerce(frame, object_type)

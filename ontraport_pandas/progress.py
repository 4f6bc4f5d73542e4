"""Progress bars for loads and pushes, kept apart from the work they report on.

``progress=None`` (the default) shows a bar only where someone is watching: in a
Jupyter kernel, or when stderr is a terminal. ``progress=True`` forces it,
``progress=False`` turns it off. The bar is ``tqdm``'s notebook widget where
ipywidgets works, ``tqdm``'s text bar elsewhere (VS Code without widgets, a
terminal, CI), and nothing at all when tqdm is not installed. tqdm and ipywidgets
are imported here, lazily, on first use: ``import ontraport_pandas`` loads neither.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["Progress", "make_progress"]


class Progress:
    """A progress reporter; the base class reports nothing."""

    def update(self, n: int = 1, **postfix: Any) -> None:
        """Advance by ``n`` units; ``postfix`` shows extra figures (rows, wait)."""

    def set_total(self, total: int) -> None:
        """Change the expected total."""

    def note(self, text: str) -> None:
        """Show a short status text (for instance the wait for the rate limit)."""

    def close(self) -> None:
        """Finish the bar."""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _TqdmProgress(Progress):
    def __init__(self, bar: Any) -> None:
        self._bar = bar
        self._postfix: dict[str, Any] = {}

    def update(self, n: int = 1, **postfix: Any) -> None:
        if postfix:
            self._postfix.update(postfix)
            self._bar.set_postfix(self._postfix, refresh=False)
        self._bar.update(n)

    def set_total(self, total: int) -> None:
        self._bar.total = total
        self._bar.refresh()

    def note(self, text: str) -> None:
        self._bar.set_description_str(text, refresh=True)

    def close(self) -> None:
        self._bar.close()


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Notebook 7, VS Code)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()  # type: ignore[attr-defined]
    except Exception:
        return False
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


def widgets_available() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def make_progress(
    total: int | None, desc: str, *, enabled: bool | None = None, unit: str = "page"
) -> Progress:
    """A progress bar, or a silent :class:`Progress` when none should be shown."""
    notebook = in_notebook()
    if enabled is None:
        enabled = notebook or (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())
    if not enabled:
        return Progress()
    try:
        if notebook and widgets_available():
            from tqdm.notebook import tqdm
        else:
            from tqdm.std import tqdm
    except ImportError:
        return Progress()
    return _TqdmProgress(tqdm(total=total, desc=desc, unit=unit, leave=True, dynamic_ncols=True))

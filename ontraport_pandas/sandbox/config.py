"""Settings of the sandbox: one frozen dataclass, every behaviour choice a field.

Where ``ontraport-api.md`` marks a behaviour as inferred ([I]) or unknown, the
simulator picks a default and exposes the alternative here, so a test or a demo
can switch it without touching code:

``default_order``
    Order of a collection read without ``sort``. Real traffic showed a custom
    object list coming back newest id first, hence ``"desc"``.
``text_collation``
    ``"nocase"`` makes ``=``, ``<>``, ``IN``, ``NOT IN``, ``LIKE`` and the order of
    text sorts case-insensitive, like MySQL's default collation (SQLite's NOCASE
    folds ASCII letters only). ``"binary"`` compares bytes.
``condition_order``
    How a flat ``[c1, "AND", c2, "OR", c3]`` list is grouped. The doc's [I] reading
    is ``"left-to-right"``: ``((c1 AND c2) OR c3)``. ``"sql"`` lets AND bind tighter.
``range_max``
    ``range`` above this is clamped (the doc: default and maximum 50).
``unknown_list_fields``
    ``"ignore"`` drops unknown names in ``listFields`` silently; ``"error"`` answers
    400 ``Invalid query``.
``email_match``
    How saveorupdate and ``object/getByEmail`` compare e-mails: ``"trim-nocase"``
    (surrounding blanks ignored, case-insensitive) or ``"exact"``.
``dlm_on_unchanged``
    Whether an update that changes nothing still moves ``dlm``. Default ``False``:
    the reply carries the stored ``dlm`` unchanged.
``opt_in_updates``
    An update (``PUT``, a saveorupdate that matched, ``task/complete``'s field updates)
    may set ``bulk_mail`` / ``bulk_sms`` only to ``0`` (transactional only / SMS opt-out):
    the API cannot opt a contact in (``ontraport-api.md`` §9). ``"ignore"`` (default) keeps
    the stored state and leaves the field out of ``attrs``, the rest of the update applies;
    ``"error"`` refuses the whole update with 400 ``<field> can only be set to 0 through the
    API``. A create may set any state.
``rerun_outcome``
    What ``transaction/rerun`` does to a declined transaction: ``"paid"`` (the charge
    went through) or ``"declined"`` (it failed again).
``fieldeditor_post_existing``
    ``POST …/fieldeditor`` naming a section that exists: ``"append"`` adds the fields
    to it, ``"error"`` answers 400 ``Section already exists`` (``PUT`` is the
    documented way to change a section).
``max_body``, ``max_params``, ``max_depth``, ``read_timeout``
    Request limits, set like a stock PHP front end: 8 MiB bodies (``post_max_size``),
    1000 parameters (``max_input_vars``; PHP drops the rest silently, the sandbox answers
    400 instead), JSON nested at most 512 deep (``json_decode``). ``read_timeout`` is how
    long the served sandbox waits for the rest of a request before 408 (the real front
    end's figure is unknown). See :mod:`~ontraport_pandas.sandbox.wire`.
``access``
    Overrides of the access matrix, keyed by type (``"sequences"``, ``"Sequence"``,
    ``"5"`` …), valued by verbs (``"GET PUT"``, ``"GET,POST"``, ``""`` = nothing).

The clock is injectable (tests pass a fake); it is left out of ``==``, ``hash``
and ``repr``. The API key is left out of ``repr``. ``demo_now`` is the fixed instant the demo data is built around, so
the same seed gives byte-identical data on any day.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["DEMO_API_KEY", "DEMO_APP_ID", "FAULT_KINDS", "SandboxConfig"]

DEMO_APP_ID = "2_sandbox_demo"
DEMO_API_KEY = "sandbox-demo-key"

#: Faults the sandbox can produce. ``"timeout"`` sleeps ``fault_sleep`` and then answers normally;
#: ``"drop"`` raises :class:`~ontraport_pandas.sandbox.DroppedConnection` before the request is
#: processed; ``"lost"`` processes (and commits) the request, then drops the answer; ``"late"`` drops
#: the connection at once while the server keeps working: the request is processed ``fault_sleep``
#: seconds later (a timeout while the server is still busy); ``"429"`` answers as if the rate limit
#: were spent (only by injection or when listed in ``fault_kinds``).
FAULT_KINDS = ("500", "502", "503", "drop", "timeout", "429", "lost", "late")

_CHOICES = {
    "default_order": ("desc", "asc"),
    "text_collation": ("nocase", "binary"),
    "condition_order": ("left-to-right", "sql"),
    "unknown_list_fields": ("ignore", "error"),
    "email_match": ("trim-nocase", "exact"),
    "rerun_outcome": ("paid", "declined"),
    "opt_in_updates": ("ignore", "error"),
    "fieldeditor_post_existing": ("append", "error"),
}


@dataclass(frozen=True)
class SandboxConfig:
    """Everything that shapes one sandbox: data size and seed, limits, faults, quirks.

    Parameters
    ----------
    seed
        Seed of the demo data. The same seed gives byte-identical data.
    contacts
        Number of demo contacts; related objects scale with it (capped).
    path
        SQLite file that keeps state between runs and processes; ``None`` keeps it in memory.
        An existing, already seeded file is reused as it is.
    rate_limit, rate_window
        Requests allowed per rolling window (seconds) per App ID; ``None`` = unlimited.
    latency
        Seconds slept at the start of every request (outside any lock).
    fault_rate, fault_kinds, fault_sleep, fault_seed
        Random faults, drawn from ``random.Random(fault_seed)``.
    app_id, api_key, account_id
        The only credential pair accepted, and the ``account_id`` of every envelope.
    """

    seed: int = 0
    contacts: int = 2000
    path: str | None = None
    rate_limit: int | None = 180
    rate_window: float = 60.0
    latency: float = 0.0
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = ("500", "502", "503", "drop")
    fault_sleep: float = 30.0
    fault_seed: int = 0
    app_id: str = DEMO_APP_ID
    api_key: str = field(default=DEMO_API_KEY, repr=False)
    account_id: int = 50
    default_order: str = "desc"
    text_collation: str = "nocase"
    condition_order: str = "left-to-right"
    access: Mapping[str, str] = field(default_factory=dict, hash=False)
    demo_now: int = 1793491200
    range_max: int = 50
    unknown_list_fields: str = "ignore"
    email_match: str = "trim-nocase"
    dlm_on_unchanged: bool = False
    rerun_outcome: str = "paid"
    opt_in_updates: str = "ignore"
    fieldeditor_post_existing: str = "append"
    max_body: int = 8 * 1024 * 1024
    max_params: int = 1000
    max_depth: int = 512
    read_timeout: float = 10.0
    clock: Callable[[], float] = field(default=time.time, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        for name, allowed in _CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"SandboxConfig.{name} must be one of {allowed}, not {value!r}")
        unknown = [kind for kind in self.fault_kinds if kind not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; known: {FAULT_KINDS}")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if self.fault_rate > 0 and not self.fault_kinds:
            raise ValueError("fault_rate > 0 needs at least one fault kind")
        if self.contacts < 0:
            raise ValueError("contacts must be >= 0")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("rate_limit must be >= 1 or None")
        if self.rate_window <= 0:
            raise ValueError("rate_window must be > 0")
        if self.latency < 0 or self.fault_sleep < 0:
            raise ValueError("latency and fault_sleep must be >= 0")
        if self.max_body < 0 or self.max_params < 1 or self.max_depth < 1:
            raise ValueError("max_body must be >= 0, max_params and max_depth >= 1")
        if self.read_timeout <= 0:
            raise ValueError("read_timeout must be > 0")
        if self.range_max < 1:
            raise ValueError("range_max must be >= 1")
        object.__setattr__(self, "fault_kinds", tuple(self.fault_kinds))
        object.__setattr__(self, "access", dict(self.access))

"""The membrane simulator's command line: minimist-style parsing, then the documented flags only.

Parsing follows minimist, which the Membrane CLI 1.1.12 bundle uses (membrane-cli.md
§1, SOURCE): ``--flag value`` and ``--flag=value``, flags before or after positional
arguments, short ``-X``/``-d``/``-H`` (also glued: ``-XPOST``), ``--`` ends the flags.
As in minimist, a value flag does not swallow a following token that is itself a flag
(``--connectionId --json`` gives ``--connectionId`` no value); ``--data=-1`` or
``-d-1`` pass a value that starts with a dash.

Then every command is checked against the flags and arguments membrane-cli.md §2-§3
documents for it (:data:`COMMANDS`), plus the flags every command takes (``--json``,
``--help``, ``--workspaceKey``, ``--tenantKey``). An unknown command or sub-command,
an unknown flag, a value flag without a value, a missing or surplus argument, or a
number out of its documented range is a usage error (exit 2, see
:mod:`~ontraport_pandas.sandbox.membrane`). minimist alone would accept an unknown
flag; the real CLI's own checks are not documented, and a stand-in that accepted
anything would let a script pass here and fail against the CLI, so the simulator is
strict (the documented-most-likely choice for a CLI that names its flags in ``--help``).

Stdlib only (the simulator starts without pandas or httpx).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BOOLEANS",
    "COMMANDS",
    "GLOBAL_FLAGS",
    "SIM_COMMANDS",
    "Args",
    "Spec",
    "UsageError",
    "check",
    "command_of",
    "int_flag",
    "parse",
]

SHORT_FLAGS = {"-X": "method", "-d": "data", "-H": "header", "-h": "help"}


class UsageError(Exception):
    """A command line the CLI would refuse (unknown command or flag, missing argument, bad number)."""


@dataclass(frozen=True)
class Spec:
    """What one command accepts: value flags, boolean flags, repeatable flags, positional arguments."""

    values: frozenset[str] = frozenset()
    booleans: frozenset[str] = frozenset()
    repeatable: frozenset[str] = frozenset()
    #: Names of the positional arguments (after the command words), for messages.
    positionals: tuple[str, ...] = ()
    #: How many of them are required (the rest are optional); ``-1``: any number (at least ``required``).
    required: int = 0
    variadic: bool = False


def _spec(
    values: str = "",
    booleans: str = "",
    *,
    repeatable: str = "",
    positionals: str = "",
    required: int | None = None,
    variadic: bool = False,
) -> Spec:
    pos = tuple(positionals.split())
    return Spec(
        frozenset(values.split()) | frozenset(repeatable.split()),
        frozenset(booleans.split()),
        frozenset(repeatable.split()),
        pos,
        len(pos) if required is None else required,
        variadic,
    )


#: Flags every command accepts (membrane-cli.md §2: ``--workspaceKey``/``--tenantKey``; §3: ``--json``).
GLOBAL_FLAGS = _spec("workspaceKey tenantKey", "json help")

#: The documented commands (membrane-cli.md §2-§3), keyed by their command words.
COMMANDS: dict[tuple[str, ...], Spec] = {
    ("login",): _spec("apiUri clientName", "tenant non-interactive"),
    ("login", "start"): _spec("apiUri clientName", "tenant non-interactive"),
    ("login", "complete"): _spec("apiUri clientName", "tenant", positionals="code"),
    ("logout",): _spec(),
    ("status",): _spec(),
    ("connection", "list"): _spec("integrationKey search limit cursor"),
    ("connection", "get"): _spec("timeout", "wait", positionals="id"),
    ("connection", "ensure"): _spec("name", positionals="appUrl"),
    ("connection", "create"): _spec("name", positionals="intent"),
    ("connection", "patch"): _spec("data", positionals="id"),
    ("connection", "delete"): _spec(positionals="id"),
    ("integration", "list"): _spec("search limit cursor"),
    ("search",): _spec("elementType limit cursor", positionals="query", variadic=True),
    ("connect",): _spec(
        "connectorId connectorKey integrationKey integrationId connectionId connectionKey intent name",
        "allowMultipleConnections non-interactive",
    ),
    ("action", "list"): _spec("intent connectionId connectionKey externalAppId limit cursor"),
    ("action", "get"): _spec("timeout", "wait", positionals="id"),
    ("action", "run"): _spec("connectionId connectionKey input", positionals="actionId"),
    ("act",): _spec("connectionId connectionKey key id api code input meta"),
    ("action-run-log", "get"): _spec("", "details", positionals="actionRunId"),
    ("request",): _spec(
        "method data",
        "rawData",
        repeatable="header query pathParam",
        positionals="connectionId path",
    ),
    ("token",): _spec("expiresIn", "manager"),
    ("credentials",): _spec("", "shell"),
}

#: The simulator's own administration commands (``sim …``), checked the same way.
SIM_COMMANDS: dict[tuple[str, ...], Spec] = {
    ("sim",): _spec(),
    ("sim", "init"): _spec(
        "contacts seed rate-limit rate-window latency page-size startup token-ttl", "logged-out"
    ),
    ("sim", "reset"): _spec(),
    ("sim", "fail"): _spec("times on", "forever", positionals="mode"),
    ("sim", "dialect"): _spec(positionals="name", required=0, variadic=True),
    ("sim", "set"): _spec("startup token-ttl latency"),
    ("sim", "revoke-tokens"): _spec(),
    ("sim", "serve"): _spec("port"),
    ("sim", "status"): _spec(),
}

#: Command groups: the first word of commands that need a second one.
GROUPS = frozenset(words[0] for words in COMMANDS if len(words) == 2 and words[0] != "login")


@dataclass
class Args:
    pos: list[str] = field(default_factory=list)
    opts: dict[str, list[Any]] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        values = self.opts.get(name)
        return values[-1] if values else default

    def all(self, name: str) -> list[Any]:
        return list(self.opts.get(name, []))

    def flag(self, name: str) -> bool:
        return bool(self.get(name, False))


def _looks_like_flag(token: str) -> bool:
    """minimist's test for a token that starts a flag (``/^(-|--)[^-]/``)."""
    return len(token) > 1 and token[0] == "-" and token[1] != "-" or (len(token) > 2 and token[:2] == "--")


def parse(argv: Sequence[str], booleans: frozenset[str] | set[str] = frozenset()) -> Args:
    """minimist-like parsing; a value flag without a value (at the end, or before a flag) gets ``True``."""
    args = Args()
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if token == "--":
            args.pos.extend(argv[i:])
            break
        name: str | None = None
        value: Any = None
        if token.startswith("--") and len(token) > 2:
            name, eq, inline = token[2:].partition("=")
            if eq:
                value = inline
        elif token in SHORT_FLAGS:
            name = SHORT_FLAGS[token]
        elif token.startswith("-") and len(token) > 2 and token[:2] in SHORT_FLAGS:
            name, value = SHORT_FLAGS[token[:2]], token[2:]
        if name is None:
            args.pos.append(token)
            continue
        if value is None:
            if name in booleans:
                value = True
            elif i < len(argv) and not _looks_like_flag(argv[i]):
                value = argv[i]
                i += 1
            else:
                value = True
        args.opts.setdefault(name, []).append(value)
    return args


def _all_booleans(specs: Mapping[Any, Spec]) -> frozenset[str]:
    out: set[str] = set(GLOBAL_FLAGS.booleans)
    for spec in specs.values():
        out |= spec.booleans
    return frozenset(out)


BOOLEANS = _all_booleans({**COMMANDS, **SIM_COMMANDS})


def command_of(args: Args) -> tuple[str, ...]:
    """The command words the positional arguments start with (``("connection", "list")``, ``("token",)``)."""
    if not args.pos:
        return ()
    first = args.pos[0]
    if first == "login" and len(args.pos) > 1 and args.pos[1] in ("start", "complete"):
        return ("login", args.pos[1])
    if first == "sim":
        return (first, args.pos[1]) if len(args.pos) > 1 else (first,)
    if first in GROUPS:
        return (first, args.pos[1]) if len(args.pos) > 1 else (first,)
    return (first,)


def check(args: Args, words: tuple[str, ...], spec: Spec | None = None) -> Spec:
    """Refuse what the command does not document (raises :class:`UsageError`); returns its spec."""
    spec = spec or COMMANDS.get(words) or SIM_COMMANDS.get(words)
    name = " ".join(words)
    if spec is None:
        if words and words[0] == "sim":
            known = sorted(w[1] for w in SIM_COMMANDS if len(w) == 2)
            raise UsageError(f"unknown sim command {words[1]!r}; known: {', '.join(known)}")
        if words and words[0] in GROUPS:
            known = sorted(w[1] for w in COMMANDS if w[0] == words[0])
            if len(words) < 2:
                raise UsageError(f"`{words[0]}` needs a command: {', '.join(known)}")
            raise UsageError(f"unknown {words[0]} command {words[1]!r}; known: {', '.join(known)}")
        raise UsageError(f"unknown command {name!r}")
    values = spec.values | GLOBAL_FLAGS.values
    booleans = spec.booleans | GLOBAL_FLAGS.booleans
    for flag, given in args.opts.items():
        if flag not in values and flag not in booleans:
            raise UsageError(f"unknown option --{flag} for `{name}`")
        if flag in values:
            if any(v is True for v in given):
                raise UsageError(f"option --{flag} of `{name}` needs a value")
            if len(given) > 1 and flag not in spec.repeatable and words[:1] != ("sim",):
                raise UsageError(f"option --{flag} of `{name}` is given {len(given)} times")
        elif any(v not in (True, "true", "false") for v in given):
            raise UsageError(f"option --{flag} of `{name}` takes no value")
    rest = args.pos[len(words) :]
    if len(rest) < spec.required:
        missing = " ".join(f"<{p}>" for p in spec.positionals[len(rest) : spec.required])
        raise UsageError(f"`{name}` needs {missing}")
    if len(rest) > len(spec.positionals) and not spec.variadic:
        raise UsageError(f"`{name}` takes no argument {rest[len(spec.positionals)]!r}")
    return spec


def int_flag(args: Args, name: str, low: int, high: int) -> int | None:
    """An integer flag within its documented range, or None when not given."""
    raw = args.get(name)
    if raw is None:
        return None
    try:
        value = int(str(raw))
    except ValueError:
        raise UsageError(f"--{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise UsageError(f"--{name} must be between {low} and {high}, not {value}")
    return value

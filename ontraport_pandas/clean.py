"""The cleanup kit: the normalisations of every CRM cleanup, on well-kept libraries.

``opd.clean`` (or ``df.ontraport.clean(...)``) takes a loaded frame and returns a
:class:`Cleaned`: the edited copy (``cleaned.frame``, ready for ``op.plan`` → ``apply``)
and the values it would not touch (``cleaned.problems``: row, column, value, problem).
Invalid values are reported, never guessed; the input frame is never changed.

===================  =====================================================================
``phones``           parsed and formatted per the contact's country with ``phonenumbers``
``emails``           syntax checked and normalised with ``email-validator`` (no DNS lookups)
``names``            proper case respecting Mc/Mac/O'/hyphens; mixed case left alone
``states``           mapped to the account's state options (Ontraport's codes by default)
``countries``        mapped to the account's country options (ISO 3166 two-letter codes)
``zips``             US zip codes that lost their leading zero(s), for states whose zips start with 0
``contacts``         every step above, in an order where each helps the next
===================  =====================================================================

``phones``, ``emails`` and ``countries`` need the ``clean`` extra
(``pip install "ontraport-pandas[clean]"``: phonenumbers, email-validator, rapidfuzz); the
others need nothing beyond pandas.

Choices where practice differs (each is an option):

- Phone format: ``"international"`` (``+1 415-555-0123``) by default; ``sms_number`` columns
  are written in E.164 (``+14155550123``), the form SMS sending needs. A number is read in
  the region of the row's ``country`` (default region ``US`` when it has none); one that is
  not valid for its region is reported, not re-guessed in another.
- E-mail: ``email-validator``'s normalised form (Unicode NFC, lower-case domain), the
  local part lower-cased too (``lowercase=True``; mailbox names are case-insensitive at
  every common provider).
- Names: a value already in mixed case (``McDonald``, ``van Dyke``, ``DeShawn``) is only
  stripped of stray blanks; all-capital or all-lower values are proper-cased. ``Mac`` gets
  a capital after it only for names longer than 5 letters not in a list of common
  exceptions (Mack, Macy, Machado, …): ``mac=False`` turns that off. Placeholders (``test``,
  ``N/A``, ``asdf``, ``-``) are reported.
- States: the field's options from the account's metadata when it has them; else
  Ontraport's state codes (US, Canada, Australia with ``AU_NT``/``AU_WA``, UK nations),
  read by code, by name and by the usual abbreviations (``Calif.``, ``Mass.``), within the
  row's country.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from .context import schema_for
from .errors import Problem, ValidationError
from .places import COUNTRY_ALIASES, _country_code, _country_table, _row_regions

__all__ = [
    "COUNTRY_ALIASES",
    "STATES",
    "Cleaned",
    "contacts",
    "countries",
    "emails",
    "names",
    "phones",
    "proper_case",
    "states",
    "zips",
]

_EXTRA = 'pip install "ontraport-pandas[clean]"'
_PROBLEM_COLUMNS = ["row", "column", "value", "problem"]


def _need(module: str, feature: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"opd.clean.{feature} needs {module.split('.')[0]}: {_EXTRA}") from None


@dataclass(frozen=True)
class Cleaned:
    """An edited copy of a frame and what could not be cleaned.

    Attributes
    ----------
    frame : pandas.DataFrame
        The edited copy (same index, columns and ``attrs``): plan and apply it.
    problems : pandas.DataFrame
        One row per value left alone because it is invalid: ``row`` (the index label),
        ``column``, ``value``, ``problem``.
    changed : dict
        Column -> number of cells changed.

    Unpacks as ``edited, problems = opd.clean.phones(contacts)``.
    """

    frame: pd.DataFrame
    problems: pd.DataFrame
    changed: dict[str, int] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.frame, self.problems))

    def __repr__(self) -> str:
        changed = ", ".join(f"{k} {v}" for k, v in self.changed.items()) or "nothing"
        return f"<Cleaned: changed {changed}; {len(self.problems)} problem(s) reported>"


class _Run:
    """Collects the edits and problems of one cleaning step."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.original = frame
        self.frame = frame.copy()
        self.problems: list[tuple[Any, str, Any, str]] = []
        self.changed: dict[str, int] = {}

    def problem(self, row: Any, column: str, value: Any, text: str) -> None:
        self.problems.append((row, column, value, text))

    def set_column(self, column: str, values: Sequence[Any]) -> None:
        before = self.original[column]
        new = pd.Series(list(values), index=self.frame.index, dtype=object)
        dtype = before.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            fits = new.dropna().isin(list(dtype.categories)).all()
            new = new.astype(dtype) if fits else new
        elif not pd.api.types.is_object_dtype(dtype):
            new = new.astype(dtype)
        equal = (before.astype(object) == new.astype(object)).fillna(False).to_numpy(dtype=bool)
        same = equal | (before.isna() & new.isna()).to_numpy(dtype=bool)
        self.changed[column] = self.changed.get(column, 0) + int((~same).sum())
        self.frame[column] = new

    def result(self) -> Cleaned:
        problems = pd.DataFrame(self.problems, columns=_PROBLEM_COLUMNS)
        return Cleaned(self.frame, problems, {k: v for k, v in self.changed.items() if v})


def _text(v: Any) -> str | None:
    """A cell as text, None for NA and blank."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    s = str(v).strip()
    return s or None


def _columns(frame: pd.DataFrame, columns: str | Iterable[str] | None, defaults: Iterable[str]) -> list[str]:
    """The columns to clean; a missing or duplicated column is a :class:`ValidationError`."""
    if columns is None:
        wanted = [c for c in defaults if c in frame.columns]
    else:
        wanted = [columns] if isinstance(columns, str) else list(columns)
    problems = [
        Problem(None, c, None, "no such column in the frame") for c in wanted if c not in frame.columns
    ]
    counts = pd.Index(frame.columns).value_counts()
    problems += [
        Problem(None, c, None, f"the frame has {int(counts[c])} columns named {c!r}; keep one")
        for c in wanted
        if c in counts.index and counts[c] > 1
    ]
    for extra in ("country", "state"):
        if extra in counts.index and counts[extra] > 1 and extra not in wanted:
            problems.append(
                Problem(None, extra, None, f"the frame has {int(counts[extra])} columns named {extra!r}")
            )
    if problems:
        raise ValidationError(problems)
    return wanted


def _field_types(frame: pd.DataFrame) -> dict[str, str]:
    """Field key -> Ontraport field type, from the client that loaded the frame (no request)."""
    schema = schema_for(frame)
    if schema is None:  # metadata is a convenience here: fall back to the column names
        return {}
    return {key: spec.type for key, spec in schema.fields.items()}


def _field_options(frame: pd.DataFrame, column: str) -> list[str] | None:
    """The option values of ``column`` in the account's metadata, if it lists any."""
    schema = schema_for(frame)
    spec = None if schema is None else schema.fields.get(column)
    if spec is None or not spec.options:
        return None
    return [str(label) for label in dict(spec.options).values()]


# --------------------------------------------------------------------------------- phones
_PHONE_DEFAULTS = ("home_phone", "office_phone", "sms_number", "fax", "phone", "mobile_phone")


def phones(
    frame: pd.DataFrame,
    columns: str | Iterable[str] | None = None,
    *,
    country: str | None = "country",
    default_region: str = "US",
    format: Literal["international", "e164", "national"] = "international",
    sms_format: Literal["international", "e164", "national"] = "e164",
) -> Cleaned:
    """Phone numbers parsed and formatted per the row's country with ``phonenumbers``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Contacts (or any frame with phone columns).
    columns : str or list of str, optional
        The phone columns (default: the fields of type phone and sms, else the usual names).
    country : str or None
        The column of each row's country (a two-letter code or a name); None: every row
        is in ``default_region``.
    default_region : str
        The region for rows without a country (numbers written with ``+`` need none).
    format, sms_format : {"international", "e164", "national"}
        How valid numbers are written (``sms_format`` for fields of type sms and ``sms_number``).

    Returns
    -------
    Cleaned
        Numbers that do not parse, or are not valid for their region, stay as they were and
        are reported.
    """
    pn = _need("phonenumbers", "phones")
    formats = {
        "international": pn.PhoneNumberFormat.INTERNATIONAL,
        "e164": pn.PhoneNumberFormat.E164,
        "national": pn.PhoneNumberFormat.NATIONAL,
    }
    for name, value in (("format", format), ("sms_format", sms_format)):
        if value not in formats:
            raise ValueError(f"{name}= must be one of {', '.join(formats)}, not {value!r}")
    types = _field_types(frame)
    default_cols = [k for k, t in types.items() if t in ("phone", "sms")] or list(_PHONE_DEFAULTS)
    cols = _columns(frame, columns, default_cols)
    run = _Run(frame)
    regions = _row_regions(frame, country, default_region)
    for column in cols:
        fmt = formats[sms_format if (types.get(column) == "sms" or column == "sms_number") else format]
        out: list[Any] = []
        seen: dict[tuple[str, str], tuple[str | None, str | None]] = {}  # (text, region) -> (number, problem)
        for row, value, region in zip(frame.index, frame[column], regions, strict=True):
            text = _text(value)
            if text is None:
                out.append(value)
                continue
            key = (text, region)
            if key not in seen:
                seen[key] = _phone(pn, text, region, fmt)
            number, problem = seen[key]
            if problem is not None:
                run.problem(row, column, value, problem)
                out.append(value)
            else:
                out.append(number)
        run.set_column(column, out)
    return run.result()


def _phone(pn: Any, text: str, region: str, fmt: Any) -> tuple[str | None, str | None]:
    """(formatted number, None) or (None, the problem)."""
    try:
        number = pn.parse(text, region)
    except pn.NumberParseException as exc:
        return None, f"not a phone number ({_parse_error(exc)})"
    if not pn.is_valid_number(number):
        where = f" for {region}" if region and not text.startswith("+") else ""
        return None, f"not a valid number{where}"
    return pn.format_number(number, fmt), None


def _parse_error(exc: Exception) -> str:
    text = str(exc)
    return text.split(") ", 1)[-1].rstrip(".").lower() if ") " in text else text


# --------------------------------------------------------------------------------- e-mails
def emails(
    frame: pd.DataFrame,
    columns: str | Iterable[str] | None = None,
    *,
    lowercase: bool = True,
) -> Cleaned:
    """E-mail addresses checked and normalised with ``email-validator`` (syntax only, no DNS).

    Blanks around an address are removed, the domain lower-cased (and the local part with
    ``lowercase=True``); invalid addresses stay as they were and are reported with the reason.
    """
    ev = _need("email_validator", "emails")
    types = _field_types(frame)
    cols = _columns(frame, columns, [k for k, t in types.items() if t == "email"] or ["email"])
    run = _Run(frame)
    for column in cols:
        out: list[Any] = []
        seen: dict[str, tuple[str | None, str | None]] = {}  # text -> (normalised, problem)
        for row, value in zip(frame.index, frame[column], strict=True):
            text = _text(value)
            if text is None:
                out.append(value)
                continue
            if text not in seen:
                try:
                    normal = str(ev.validate_email(text, check_deliverability=False).normalized)
                    seen[text] = (normal.lower() if lowercase else normal, None)
                except ev.EmailNotValidError as exc:
                    seen[text] = (None, f"invalid e-mail: {exc}")
            normal_, problem = seen[text]
            if problem is not None:
                run.problem(row, column, value, problem)
                out.append(value)
            else:
                out.append(normal_)
        run.set_column(column, out)
    return run.result()


# --------------------------------------------------------------------------------- names
_PLACEHOLDERS = frozenset(
    {"test", "testing", "n/a", "na", "none", "null", "asdf", "qwerty", "xxx", "x", "-", "--", "?", "unknown"}
)
_PARTICLES = frozenset(
    {
        "van",
        "von",
        "de",
        "der",
        "den",
        "da",
        "di",
        "du",
        "la",
        "le",
        "del",
        "della",
        "dos",
        "das",
        "bin",
        "ibn",
    }
)
#: Names starting with "Mac" that are not Mac + a capitalised name.
_MAC_EXCEPTIONS = frozenset(
    {
        "macaulay",
        "machado",
        "machin",
        "macias",
        "mackie",
        "mackey",
        "macklin",
        "macon",
        "macy",
        "mack",
        "macek",
        "macedo",
        "macey",
        "machell",
        "maciel",
        "mackay",
        "mackle",
        "macri",
        "macha",
    }
)


def proper_case(value: str, *, mac: bool = True) -> str:
    """One name in proper case: ``o'neil`` → ``O'Neil``, ``MCDONALD`` → ``McDonald``,
    ``smith-jones`` → ``Smith-Jones``, ``VAN DER BERG`` → ``Van der Berg``.

    Already mixed case is returned as it is, only with blanks collapsed.
    """
    text = " ".join(value.split())
    letters = [c for c in text if c.isalpha()]
    if any(c.isupper() for c in letters) and any(c.islower() for c in letters):
        return text
    words = text.lower().split(" ")
    out = []
    for i, word in enumerate(words):
        if i > 0 and word in _PARTICLES:
            out.append(word)
            continue
        out.append("-".join(_case_part(p, mac=mac) for p in word.split("-")))
    return " ".join(out)


def _case_part(part: str, *, mac: bool) -> str:
    if not part:
        return part
    m = re.match(r"^([a-z])(['’])([a-z].*)$", part)  # O'Neil, D'Angelo
    if m:
        return m[1].upper() + m[2] + _case_part(m[3], mac=mac)
    word = part[0].upper() + part[1:]
    if part.startswith("mc") and len(part) > 2:
        return "Mc" + part[2].upper() + part[3:]
    if mac and part.startswith("mac") and len(part) > 5 and part not in _MAC_EXCEPTIONS:
        return "Mac" + part[3].upper() + part[4:]
    return word


def names(
    frame: pd.DataFrame,
    columns: str | Iterable[str] | None = None,
    *,
    mac: bool = True,
) -> Cleaned:
    """Names in proper case (:func:`proper_case`); mixed case kept; placeholders reported.

    Columns default to ``firstname`` and ``lastname``. Blanks around and inside are tidied
    in every value.
    """
    cols = _columns(frame, columns, ["firstname", "lastname"])
    run = _Run(frame)
    for column in cols:
        out: list[Any] = []
        for row, value in zip(frame.index, frame[column], strict=True):
            text = _text(value)
            if text is None:
                out.append(value)
                continue
            if text.lower() in _PLACEHOLDERS or not any(c.isalpha() for c in text):
                run.problem(row, column, value, "placeholder, not a name")
                out.append(value)
                continue
            out.append(proper_case(text, mac=mac))
        run.set_column(column, out)
    return run.result()


# --------------------------------------------------------------------------------- places
#: Ontraport's state codes per country: code -> name.
STATES: dict[str, dict[str, str]] = {
    "US": {
        "AL": "Alabama",
        "AK": "Alaska",
        "AZ": "Arizona",
        "AR": "Arkansas",
        "CA": "California",
        "CO": "Colorado",
        "CT": "Connecticut",
        "DE": "Delaware",
        "DC": "District of Columbia",
        "FL": "Florida",
        "GA": "Georgia",
        "HI": "Hawaii",
        "ID": "Idaho",
        "IL": "Illinois",
        "IN": "Indiana",
        "IA": "Iowa",
        "KS": "Kansas",
        "KY": "Kentucky",
        "LA": "Louisiana",
        "ME": "Maine",
        "MD": "Maryland",
        "MA": "Massachusetts",
        "MI": "Michigan",
        "MN": "Minnesota",
        "MS": "Mississippi",
        "MO": "Missouri",
        "MT": "Montana",
        "NE": "Nebraska",
        "NV": "Nevada",
        "NH": "New Hampshire",
        "NJ": "New Jersey",
        "NM": "New Mexico",
        "NY": "New York",
        "NC": "North Carolina",
        "ND": "North Dakota",
        "OH": "Ohio",
        "OK": "Oklahoma",
        "OR": "Oregon",
        "PA": "Pennsylvania",
        "RI": "Rhode Island",
        "SC": "South Carolina",
        "SD": "South Dakota",
        "TN": "Tennessee",
        "TX": "Texas",
        "UT": "Utah",
        "VT": "Vermont",
        "VA": "Virginia",
        "WA": "Washington",
        "WV": "West Virginia",
        "WI": "Wisconsin",
        "WY": "Wyoming",
        "PR": "Puerto Rico",
        "VI": "Virgin Islands",
        "GU": "Guam",
        "AS": "American Samoa",
        "MP": "Northern Mariana Islands",
        "AA": "Armed Forces Americas",
        "AE": "Armed Forces Europe",
        "AP": "Armed Forces Pacific",
    },
    "CA": {
        "AB": "Alberta",
        "BC": "British Columbia",
        "MB": "Manitoba",
        "NB": "New Brunswick",
        "NL": "Newfoundland and Labrador",
        "NS": "Nova Scotia",
        "NT": "Northwest Territories",
        "NU": "Nunavut",
        "ON": "Ontario",
        "PE": "Prince Edward Island",
        "QC": "Quebec",
        "SK": "Saskatchewan",
        "YT": "Yukon",
    },
    "AU": {
        "ACT": "Australian Capital Territory",
        "NSW": "New South Wales",
        "AU_NT": "Northern Territory",
        "QLD": "Queensland",
        "SA": "South Australia",
        "TAS": "Tasmania",
        "VIC": "Victoria",
        "AU_WA": "Western Australia",
    },
    "GB": {"ENG": "England", "NIR": "Northern Ireland", "SCT": "Scotland", "WLS": "Wales"},
}
#: AP-style and other common abbreviations of US states and Canadian provinces.
_STATE_ABBREVIATIONS = {
    "US": {
        "ala": "AL",
        "ariz": "AZ",
        "ark": "AR",
        "calif": "CA",
        "cal": "CA",
        "colo": "CO",
        "conn": "CT",
        "del": "DE",
        "fla": "FL",
        "ill": "IL",
        "ind": "IN",
        "kan": "KS",
        "kans": "KS",
        "ky": "KY",
        "mass": "MA",
        "md": "MD",
        "mich": "MI",
        "minn": "MN",
        "miss": "MS",
        "mo": "MO",
        "mont": "MT",
        "neb": "NE",
        "nebr": "NE",
        "nev": "NV",
        "okla": "OK",
        "ore": "OR",
        "oreg": "OR",
        "pa": "PA",
        "penn": "PA",
        "tenn": "TN",
        "tex": "TX",
        "va": "VA",
        "vt": "VT",
        "wash": "WA",
        "wis": "WI",
        "wisc": "WI",
        "wyo": "WY",
        "n.y": "NY",
        "n.j": "NJ",
        "n.c": "NC",
        "s.c": "SC",
        "n.d": "ND",
        "s.d": "SD",
        "n.h": "NH",
        "n.m": "NM",
        "r.i": "RI",
        "w.va": "WV",
        "d.c": "DC",
        "washington dc": "DC",
        "washington d.c": "DC",
    },
    "CA": {"alta": "AB", "b.c": "BC", "man": "MB", "ont": "ON", "que": "QC", "sask": "SK", "p.e.i": "PE"},
    "AU": {"nt": "AU_NT", "wa": "AU_WA", "tas": "TAS", "vic": "VIC"},
}


def _state_lookup(country: str | None, options: Sequence[str] | None) -> dict[str, str]:
    """Lower-case key -> the state code, for one country (every country when None)."""
    lookup: dict[str, str] = {}
    chosen = [country] if country in STATES else ([] if country else list(STATES))
    for c in chosen:
        for code, name in STATES[c].items():
            lookup.setdefault(name.lower(), code)
            lookup.setdefault(code.lower(), code)
            if code.startswith("AU_"):
                lookup.setdefault(code[3:].lower(), code)
        for key, code in _STATE_ABBREVIATIONS.get(c, {}).items():
            lookup.setdefault(key, code)
    if options is not None:
        allowed = set(options)
        lookup = {k: v for k, v in lookup.items() if v in allowed}
        for o in options:
            lookup.setdefault(o.lower(), o)
    return lookup


def states(
    frame: pd.DataFrame,
    columns: str | Iterable[str] | None = None,
    *,
    country: str | None = "country",
    options: Sequence[str] | None = None,
) -> Cleaned:
    """States mapped to the account's state codes, by code, name or abbreviation, within the row's country.

    ``options`` are the codes allowed (default: the field's options in the account's
    metadata, else Ontraport's codes in :data:`STATES`). Rows whose country has no state
    list (or no country) are read against every list when the value is unambiguous
    there. Values that match nothing are reported.
    """
    types = _field_types(frame)
    cols = _columns(frame, columns, [k for k, t in types.items() if t == "state"] or ["state"])
    table = _country_table()
    run = _Run(frame)
    for column in cols:
        allowed = options if options is not None else _field_options(frame, column)
        lookups: dict[str | None, dict[str, str]] = {}
        out: list[Any] = []
        codes: dict[Any, str | None] = {}
        countries_ = []
        for v in frame[country] if country and country in frame.columns else [None] * len(frame):
            text = _text(v)
            if text not in codes:
                codes[text] = _country_code(text, table) if text else None
            countries_.append(codes[text])
        for row, value, ctry in zip(frame.index, frame[column], countries_, strict=True):
            text = _text(value)
            if text is None:
                out.append(value)
                continue
            key = ctry if ctry in STATES else None
            if key not in lookups:
                lookups[key] = _state_lookup(key, allowed)
            lookup = lookups[key]
            probe = text.lower().rstrip(".").strip()
            code = lookup.get(probe) or lookup.get(probe.replace(".", "")) or lookup.get(text.lower())
            if key is None and code is None and ctry is not None and allowed is None:
                # a country without a state list: keep what was written, tidied
                out.append(text)
                continue
            if code is None:
                where = f" in {ctry}" if ctry else ""
                run.problem(row, column, value, f"not a known state{where}")
                out.append(value)
                continue
            out.append(code)
        run.set_column(column, out)
    return run.result()


def countries(
    frame: pd.DataFrame,
    columns: str | Iterable[str] | None = None,
    *,
    options: Sequence[str] | None = None,
) -> Cleaned:
    """Countries mapped to two-letter ISO codes (``"United States"``, ``"USA"``, ``"us"`` → ``US``).

    ``options`` are the codes allowed (default: the field's options in the account's
    metadata, else every ISO region). Names are read in English and by common aliases;
    values that match nothing (or a code the account does not offer) are reported.
    """
    _need("phonenumbers", "countries")
    types = _field_types(frame)
    cols = _columns(frame, columns, [k for k, t in types.items() if t == "country"] or ["country"])
    table = _country_table()
    run = _Run(frame)
    for column in cols:
        allowed = options if options is not None else _field_options(frame, column)
        out: list[Any] = []
        for row, value in zip(frame.index, frame[column], strict=True):
            text = _text(value)
            if text is None:
                out.append(value)
                continue
            code = _country_code(text, table)
            if code is None or (allowed is not None and code not in allowed):
                run.problem(
                    row, column, value, "not a known country" if code is None else f"{code} is not an option"
                )
                out.append(value)
                continue
            out.append(code)
        run.set_column(column, out)
    return run.result()


#: US states (and territories) whose zip codes start with 0, with the 3-digit prefixes they use.
_ZERO_ZIPS: dict[str, tuple[str, ...]] = {
    "CT": ("060", "069"),
    "MA": ("010", "027"),
    "ME": ("039", "049"),
    "NH": ("030", "038"),
    "NJ": ("070", "089"),
    "RI": ("028", "029"),
    "VT": ("050", "059"),
    "PR": ("006", "009"),
    "VI": ("008", "008"),
    "NY": ("005", "005"),
    "AE": ("090", "098"),
}


def zips(
    frame: pd.DataFrame,
    columns: str | Iterable[str] | None = None,
    *,
    state: str = "state",
    country: str | None = "country",
) -> Cleaned:
    """US zip codes that lost their leading zero(s) (``2165`` → ``02165`` in MA).

    A zip is padded only when the row is in the US (or has no country), its state is one
    whose zips start with 0 and the padded zip falls in that state's range; a short zip
    anywhere else is reported. ZIP+4 codes are padded the same way (``2165-1234``).
    """
    cols = _columns(frame, columns, ["zip", "zipcode"])
    table = _country_table()
    run = _Run(frame)
    states_ = frame[state] if state in frame.columns else pd.Series(None, index=frame.index, dtype=object)
    countries_ = (
        frame[country]
        if country and country in frame.columns
        else pd.Series(None, index=frame.index, dtype=object)
    )
    for column in cols:
        out: list[Any] = []
        for row, value, st, ct in zip(frame.index, frame[column], states_, countries_, strict=True):
            text = _text(value)
            if text is None:
                out.append(value)
                continue
            code = _country_code(_text(ct), table) if _text(ct) else None
            m = re.fullmatch(r"(\d{3,5})(?:-(\d{4}))?", text)
            if code not in (None, "US") or m is None or len(m[1]) == 5:
                out.append(text if text != value else value)
                continue
            five = m[1].zfill(5)
            prefix = five[:3]
            st_code = (_text(st) or "").upper()
            low, high = _ZERO_ZIPS.get(st_code, ("", ""))
            if low and low <= prefix <= high:
                out.append(five + (f"-{m[2]}" if m[2] else ""))
            else:
                run.problem(
                    row, column, value, f"{len(m[1])}-digit zip code not padded: state {st_code or 'unknown'}"
                )
                out.append(value)
        run.set_column(column, out)
    return run.result()


# --------------------------------------------------------------------------------- all at once


def contacts(
    frame: pd.DataFrame,
    *,
    steps: Iterable[Literal["names", "emails", "countries", "states", "zips", "phones"]] = (
        "names",
        "emails",
        "countries",
        "states",
        "zips",
        "phones",
    ),
    **options: Any,
) -> Cleaned:
    """Every step in turn (countries before states, zips and phones, which read the country).

    ``options`` are passed to the steps that take them (``default_region``, ``lowercase``,
    ``mac``, ``format``). The problems of every step are together in ``problems``.
    """
    funcs: dict[str, Callable[..., Cleaned]] = {
        "names": names,
        "emails": emails,
        "countries": countries,
        "states": states,
        "zips": zips,
        "phones": phones,
    }
    chosen = list(steps)
    unknown = [s for s in chosen if s not in funcs]
    if unknown:
        raise ValueError(f"Unknown cleaning step(s) {unknown}; choose from {', '.join(funcs)}.")
    import inspect

    current = frame
    problems: list[pd.DataFrame] = []
    changed: dict[str, int] = {}
    for name in funcs:  # the fixed order: each step may read what an earlier one cleaned
        if name not in chosen:
            continue
        func = funcs[name]
        accepted = set(inspect.signature(func).parameters)
        step = func(current, **{k: v for k, v in options.items() if k in accepted})
        current = step.frame
        if len(step.problems):
            problems.append(step.problems)
        for k, v in step.changed.items():
            changed[k] = changed.get(k, 0) + v
    all_problems = (
        pd.concat(problems, ignore_index=True) if problems else pd.DataFrame(columns=_PROBLEM_COLUMNS)
    )
    # changed counts compare with the input, not step by step
    final = {}
    for column in changed:
        before, after = frame[column].astype(object), current[column].astype(object)
        diff = ~((before == after).fillna(False) | (before.isna() & after.isna()))
        if int(diff.sum()):
            final[column] = int(diff.sum())
    return Cleaned(current, all_problems, final)

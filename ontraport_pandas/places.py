"""Country names and codes, shared by the cleanup kit and duplicate finding (pure, no I/O).

Names come from ``phonenumbers``' region data (English) when the ``clean`` extra is
installed, plus :data:`COUNTRY_ALIASES`; two-letter codes are always understood.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["COUNTRY_ALIASES", "country_code"]

_KNOWN_CODES = ("US", "CA", "AU", "GB")


def _text(v: object) -> str | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):  # type: ignore[call-overload]
        return None
    s = str(v).strip()
    return s or None


#: Other names people write for countries -> ISO code.
COUNTRY_ALIASES = {
    "usa": "US",
    "u.s.a": "US",
    "u.s": "US",
    "us": "US",
    "america": "US",
    "united states of america": "US",
    "the united states": "US",
    "uk": "GB",
    "u.k": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "holland": "NL",
    "the netherlands": "NL",
    "deutschland": "DE",
    "espana": "ES",
    "españa": "ES",
    "brasil": "BR",
    "méxico": "MX",
    "mexico": "MX",
    "uae": "AE",
    "south korea": "KR",
    "korea": "KR",
    "russia": "RU",
    "czech republic": "CZ",
    "ivory coast": "CI",
    "vietnam": "VN",
    "aus": "AU",
    "nz": "NZ",
    "can": "CA",
}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.lower().replace("&", "and").rstrip(".").split())


_COUNTRY_TABLE: dict[str, str] | None = None


def _country_table() -> dict[str, str]:
    """Folded name or code -> ISO code: codes and English names of every region
    ``phonenumbers`` knows (when installed), plus :data:`COUNTRY_ALIASES`."""
    global _COUNTRY_TABLE
    if _COUNTRY_TABLE is not None:
        return _COUNTRY_TABLE
    table: dict[str, str] = {}
    codes: set[str] = set(_KNOWN_CODES)
    try:
        import phonenumbers
        from phonenumbers.geocoder import _region_display_name

        codes |= set(phonenumbers.SUPPORTED_REGIONS)
        for code in phonenumbers.SUPPORTED_REGIONS:
            for lang in ("en",):
                name = _region_display_name(code, lang, None, None)
                if name:
                    table.setdefault(_fold(name), code)
    except Exception:  # the names need the clean extra; codes and aliases still work
        pass
    for code in codes:
        table.setdefault(code.lower(), code)
    for alias, code in COUNTRY_ALIASES.items():
        table.setdefault(_fold(alias), code)
    _COUNTRY_TABLE = table
    return table


def _country_code(text: str | None, table: Mapping[str, str]) -> str | None:
    if not text:
        return None
    folded = _fold(text)
    return table.get(folded) or table.get(folded.replace(".", ""))


def country_code(text: str | None) -> str | None:
    """The two-letter code of a country written as a code, an English name or an alias."""
    return _country_code(text, _country_table())


def _row_regions(frame: pd.DataFrame, country: str | None, default_region: str) -> list[str]:
    if country is None or country not in frame.columns:
        return [default_region] * len(frame)
    table = _country_table()
    seen: dict[Any, str] = {}
    out = []
    for v in frame[country]:
        text = _text(v)
        if text not in seen:
            seen[text] = (_country_code(text, table) if text else None) or default_region
        out.append(seen[text])
    return out

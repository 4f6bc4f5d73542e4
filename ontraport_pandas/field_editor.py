"""The field editor from the client: which section each field sits in, and new custom fields.

``op.fields(type)`` adds the ``section`` (and the field editor's ``field_id``) of each
field from ``objects/fieldeditor`` (``ontraport-api.md`` §8.3); when the connection
cannot read the field editor (a permission or a route the account lacks), the columns
are empty rather than the call failing. ``op.create_field(...)`` creates a custom field
(``POST objects/fieldeditor``) only with ``confirm=True``: a field is visible to every
user of the account and cannot be renamed away through a frame. Everything is checked
before the request; afterwards the cached metadata is refreshed so the next load has the
new column.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .errors import APIError, ConfirmationRequired, OntraportError, Problem, ProtocolError, ValidationError

if TYPE_CHECKING:
    from .objects import ObjectType
    from .session import Session

__all__ = ["CREATABLE_TYPES", "create_field", "field_sections"]

logger = logging.getLogger(__name__)

#: Field types the field editor can create.
CREATABLE_TYPES = (
    "text",
    "longtext",
    "email",
    "phone",
    "sms",
    "url",
    "address",
    "numeric",
    "price",
    "check",
    "fulldate",
    "timestamp",
    "drop",
    "list",
    "state",
    "country",
)


def field_sections(session: Session, otype: ObjectType) -> dict[str, tuple[str, int | None]]:
    """Field key -> (section name, field editor id); empty when the field editor is unavailable."""
    try:
        data = session.data("GET", "objects/fieldeditor", params={"objectID": otype.id})
    except APIError as exc:
        logger.info("field editor of %s unavailable: %s", otype.name, exc)
        return {}
    out: dict[str, tuple[str, int | None]] = {}
    if not isinstance(data, dict):
        return out
    for section in data.values():
        if not isinstance(section, dict):
            continue
        name = str(section.get("name") or "")
        for column in section.get("fields") or []:
            for f in column if isinstance(column, list) else [column]:
                if isinstance(f, dict) and f.get("field"):
                    raw: Any = f.get("id")
                    try:
                        fid = int(raw) if raw not in (None, "") else None
                    except (TypeError, ValueError):
                        fid = None
                    out[str(f["field"])] = (name, fid)
    return out


def create_field(
    session: Session,
    otype: ObjectType,
    alias: str,
    type: str,
    *,
    section: str = "Custom Fields",
    options: Sequence[str] | None = None,
    required: bool = False,
    unique: bool = False,
    confirm: bool = False,
) -> str:
    """Create a custom field and return its key (``f1557``); see :meth:`Ontraport.create_field`."""
    problems: list[Problem] = []
    label = alias.strip() if isinstance(alias, str) else ""
    if not label:
        problems.append(Problem(None, "alias", alias, "a field needs a non-blank alias"))
    if type not in CREATABLE_TYPES:
        problems.append(Problem(None, "type", type, f"must be one of {', '.join(CREATABLE_TYPES)}"))
    if not isinstance(section, str) or not section.strip():
        problems.append(Problem(None, "section", section, "a section name cannot be blank"))
    choices: list[str] = []
    if options is not None:
        if type not in ("drop", "list"):
            problems.append(Problem(None, "options", list(options), "only drop and list fields have options"))
        else:
            for value in options:
                text = str(value).strip()
                if not text:
                    problems.append(Problem(None, "options", value, "an option cannot be blank"))
                elif text in choices:
                    problems.append(Problem(None, "options", value, "appears more than once"))
                else:
                    choices.append(text)
    elif type in ("drop", "list"):
        problems.append(Problem(None, "options", None, f"a {type} field needs options"))
    if label:
        schema = session.schema(otype)
        taken = {spec.label.strip().lower(): key for key, spec in schema.fields.items()}
        if label.lower() in taken:
            problems.append(
                Problem(
                    None, "alias", alias, f"{otype.label} already has this field ({taken[label.lower()]})"
                )
            )
    if problems:
        raise ValidationError(problems)
    if confirm is not True:
        raise ConfirmationRequired(
            f"This creates the {type} field {label!r} in section {section!r} of {otype.label}, visible to every "
            "user of the account. Nothing was sent. Call again with confirm=True.",
            1,
        )
    spec: dict[str, Any] = {"alias": label, "type": type, "required": int(required), "unique": int(unique)}
    if choices:
        spec["options"] = {"add": choices}
    body = {"objectID": otype.id, "name": section.strip(), "fields": [[spec]]}
    data = session.data("POST", "objects/fieldeditor", json=body, retry=False)
    if not isinstance(data, dict):
        raise ProtocolError(
            "objects/fieldeditor: expected {success, error}", method="POST", path="objects/fieldeditor"
        )
    errors = data.get("error") or []
    created = [k for k, v in (data.get("success") or {}).items() if str(v).strip().lower() == label.lower()]
    if errors or not created:
        raise OntraportError(f"Ontraport did not create the field {label!r}: {errors or data}")
    session.meta(refresh=True)
    session.forget_lookups()
    return str(created[0])

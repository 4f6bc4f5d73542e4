"""Columns of related records (``externs``): ``owner//firstname``, ``f2001//owner//email``.

A path walks ``parent`` fields (a contact's ``owner`` is a user, a membership's
``f2001`` a contact) and ends at a field of the last related type. The API adds the
value to each row under the path's name (``externs=``, ``ontraport-api.md`` §7); the
loader asks for it and types the column by the **last field's** type (a date stays a
date, a dropdown a categorical of its labels, a tag list a list of names). Extern
columns are read-only: they describe another record.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from .errors import Problem, SchemaError, UnknownFieldError, ValidationError
from .schema import FieldSpec, ObjectSchema

if TYPE_CHECKING:
    from .objects import ObjectType
    from .session import Session

__all__ = ["SEP", "is_extern", "resolve_externs", "split_externs"]

SEP = "//"


def is_extern(name: object) -> bool:
    return isinstance(name, str) and SEP in name


def resolve_externs(
    session: Session, otype: ObjectType, schema: Any, paths: Iterable[str]
) -> tuple[Any, dict[str, Mapping[str, str]]]:
    """The schema extended with one read-only spec per path, and the label lookups they need.

    Raises
    ------
    UnknownFieldError
        For a segment that is not a parent field, or a last field the related type lacks,
        before any request for records is sent.
    """
    extra: dict[str, Any] = {}
    lookups: dict[str, Mapping[str, str]] = {}
    for path in dict.fromkeys(paths):
        parts = [p.strip() for p in path.split(SEP)]
        if len(parts) < 2 or not all(parts):
            raise UnknownFieldError(f"{path!r} is not a related-field path such as 'owner//firstname'.")
        current_type, current = otype, schema
        labels: list[str] = []
        for name in parts[:-1]:
            spec = current.fields.get(name)
            if spec is None or spec.type != "parent" or spec.parent_object is None:
                raise UnknownFieldError(
                    f"In {path!r}: {name!r} is not a field of {current_type.label} that points at another record."
                )
            try:
                current_type = session.resolve(int(spec.parent_object))
            except (KeyError, ValueError) as exc:
                raise SchemaError(
                    f"In {path!r}: {name!r} points at object type {spec.parent_object}, which is unknown."
                ) from exc
            current = session.schema(current_type)
            labels.append(spec.label)
        last = parts[-1]
        if last in ("id", current_type.id_field):
            target = FieldSpec(path, " → ".join([*labels, "ID"]), "parent", editable=False)
        else:
            spec = current.fields.get(last)
            if spec is None:
                raise UnknownFieldError(current.unknown_field_message(last) + f" (in {path!r})")
            target = dataclasses.replace(
                spec, key=path, label=" → ".join([*labels, spec.label]), editable=False
            )
            if spec.type == "subscription":
                lookups[path] = session.lookups(current_type).get(last, {})
        extra[path] = target
    if not extra:
        return schema, lookups
    return ObjectSchema(schema.type_id, schema.name, {**schema.fields, **extra}), lookups


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return list(a if isinstance(a, (list, tuple)) else []) == list(
            b if isinstance(b, (list, tuple)) else []
        )
    a_na, b_na = bool(pd.isna(a)), bool(pd.isna(b))
    return a_na == b_na and (a_na or a == b)


def split_externs(edited: pd.DataFrame, original: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both frames without their related-record columns, which are never written.

    Raises
    ------
    ValidationError
        When a related-record cell was edited (or filled on a new row): it belongs to
        another record, so it cannot be written from this frame. Nothing was sent.
    """
    columns = [c for c in edited.columns if is_extern(c)]
    if not columns:
        return edited, original
    problems: list[Problem] = []
    for col in columns:
        before = original[col] if col in original.columns else None
        for label, value in edited[col].items():
            old = before.get(label) if before is not None and label in before.index else None
            if not _same(value, old):
                problems.append(
                    Problem(
                        label,
                        str(col),
                        value,
                        "is a related record's value (read-only); edit that record instead",
                    )
                )
    if problems:
        raise ValidationError(problems)
    return edited.drop(columns=columns), original.drop(columns=[c for c in columns if c in original.columns])

"""Forms and landing pages beyond their records: form HTML, form blocks, hosted URLs.

- ``GET form?id=`` (lower-case ``form``) answers the form's HTML as ``data`` (a string);
  an unknown id is 404 ``Object not found``.
- ``GET Form/getAllFormBlocks`` answers ``{"f<form_id>": "<form name>", …}`` for the
  ONTRAforms (type 11), the forms built from blocks; ``GET Form/getBlocksByFormName?name=``
  answers ``{"block_ids": ["f<form_id>", …]}`` for the ONTRAforms of that name (compared
  per ``text_collation``; none: an empty list). A missing ``name`` is 400 ``Invalid query``.
- ``GET landingPage/getHostedURL?id=`` answers the page's URL as a string,
  ``https://<domain>/<uri_id>``; an unknown id is 404 ``Object not found``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from .conditions import InvalidQuery
from .handlers import NOT_FOUND, Api, Reply
from .model import TYPES_BY_ID, ObjectType
from .store import Store
from .values import as_text
from .wire import ApiError

__all__ = ["PageEndpoints"]

FORMS = TYPES_BY_ID[122]
PAGES = TYPES_BY_ID[20]


class PageEndpoints(Api):
    """Form HTML and blocks, landing page URLs."""

    def _one(self, otype: ObjectType, params: Mapping[str, Any]) -> dict[str, Any]:
        record_id = self.record_id(otype, params)
        with self.store.read() as conn:
            row = Store.get(conn, otype, record_id)
        if row is None:
            raise ApiError(404, NOT_FOUND)
        return row

    def form_html(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        row = self._one(FORMS, params)
        name = html.escape(as_text(row.get("formname")))
        redirect = html.escape(as_text(row.get("redirect")))
        body = (
            f'<form class="moonray-form" id="form-{row["form_id"]}" method="post" '
            f'action="https://forms.ontraport.com/v2.4/form_processor.php" data-redirect="{redirect}">'
            f"<h2>{name}</h2>"
            '<label>First Name <input type="text" name="firstname"></label>'
            '<label>Email <input type="email" name="email" required></label>'
            f'<input type="hidden" name="uid" value="p2c50f{row["form_id"]}">'
            '<button type="submit">Submit</button></form>'
        )
        return Reply(body)

    def _ontraforms(self, where: str = "", args: list[Any] | None = None) -> list[dict[str, Any]]:
        clause = "t.\"type\" = '11'" + (f" AND {where}" if where else "")
        with self.store.read() as conn:
            return Store.select(conn, FORMS, ["form_id", "formname"], clause, args or [], "t.id ASC")

    def form_blocks(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        return Reply({f"f{r['form_id']}": r["formname"] for r in self._ontraforms()})

    def form_blocks_by_name(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        name = as_text(params.get("name")).strip()
        if not name:
            raise InvalidQuery("getBlocksByFormName needs a name")
        collate = " COLLATE NOCASE" if self._nocase() else ""
        rows = self._ontraforms(f'trim(t."formname") = ?{collate}', [name])
        return Reply({"block_ids": [f"f{r['form_id']}" for r in rows]})

    def hosted_url(self, otype: ObjectType | None, params: Mapping[str, Any]) -> Reply:
        row = self._one(PAGES, params)
        return Reply(f"https://{as_text(row.get('domain'))}/{as_text(row.get('uri_id'))}")

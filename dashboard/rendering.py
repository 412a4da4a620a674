"""How pages are rendered: readable values, the shared macros, and the live regions a page refreshes.

A page marks what changes with `<… data-live="NAME">{% block live_NAME %}…{% endblock %}</…>`. The
little script the dashboard ships (`static/live.js`) asks the same URL every 2 s with the
`X-Bookjobs-Live` header and gets `{"regions": {NAME: html}}`: the same template blocks, rendered
by the same code as the page, escaped the same way.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Template

from dashboard.queries import tab_of
from domain.models.base import utcnow

LIVE_HEADER = "x-bookjobs-live"
LIVE_PREFIX = "live_"
#: Values longer than this many characters are folded behind a "show all".
FOLD_AT = 1500


def readable(value: Any, indent: int | None = 2) -> str:
    """`value` as JSON a person can read: Cyrillic and every other script as itself, not `\\uXXXX`.

    The result is plain text; the template escapes it like any other."""
    return json.dumps(value, ensure_ascii=False, indent=indent, default=str, sort_keys=False)


def configure(templates: Jinja2Templates) -> None:
    """Filters and macros every template can use (macros as globals, so a live block finds them)."""
    env = templates.env
    env.filters["readable"] = readable
    env.globals["FOLD_AT"] = FOLD_AT
    env.globals["tab_of"] = tab_of
    macros = env.get_template("macros.html").module
    env.globals.update({name: value for name, value in vars(macros).items() if not name.startswith("_")})


def wants_live(headers) -> bool:
    return headers.get(LIVE_HEADER) == "1"


def live_regions(template: Template, context: dict[str, Any]) -> JSONResponse:
    """The page's live blocks only, as JSON (never cached)."""
    rendered = template.new_context(context)
    regions = {
        name.removeprefix(LIVE_PREFIX): "".join(block(rendered))
        for name, block in template.blocks.items()
        if name.startswith(LIVE_PREFIX)
    }
    answer = JSONResponse({"regions": regions, "at": utcnow().isoformat()})
    answer.headers["Cache-Control"] = "no-store"
    return answer

"""Writing a checked template document back to a TOML file, laid out as people read it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tomli_w

from campus.network.toolkit_checker import ToolkitDocument


def _section(header: str | None, values: Mapping[str, Any]) -> str:
    body = tomli_w.dumps(dict(values))
    return f"{header}\n{body}" if header else body


def to_toml(document: ToolkitDocument) -> str:
    """The document as a template file, laid out as people read it (tables, not inline)."""
    top = {key: document[key] for key in ("format", "slug", "title", "summary", "language")}
    parts = ["# A Campus development-network template: roadmap, annual clock and kick-off kit.\n"]
    parts.append(_section(None, top))
    roadmap = document["roadmap"]
    parts.append(_section("[roadmap]", {"title": roadmap["title"], "years": roadmap["years"]}))
    for goal in roadmap["goals"]:
        parts.append(_section("[[roadmap.goals]]", goal))
    for action in document["clock"]["actions"]:
        fields = {key: value for key, value in action.items() if key != "raci"}
        parts.append(_section("[[clock.actions]]", fields))
        if action["raci"]:
            parts.append(_section("[clock.actions.raci]", action["raci"]))
    if "kit" in document:
        parts.append(_section("[kit]", document["kit"]))
    return "\n".join(parts)

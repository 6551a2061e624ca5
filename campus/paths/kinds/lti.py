"""`lti`: an external LTI 1.3 tool, completed when the tool's score reaches the pass mark.

The launch, deep linking and grade passback are the lti package's; this kind checks the
manifest and shows the launch on the module page. It takes no submissions of its own.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from campus.paths import kinds
from campus.paths.manifest import SLUG
from campus.paths.manifest import ManifestReader


@kinds.register
class Lti(kinds.ModuleKindType):
    key = "lti"
    label = _l("External tool")
    settings_keys = frozenset({"tool", "url", "custom", "presentation", "pass_mark"})
    takes_submissions = False

    @classmethod
    def read_settings(cls, reader: ManifestReader) -> dict[str, Any]:
        """The tool is registered by an admin under `tool`; the link may be picked later."""
        tool = reader.data.get("tool")
        if not isinstance(tool, str) or not SLUG.match(tool):
            reader.report_key("tool", "`tool` must be the short name of a registered LTI tool")
        url = reader.data.get("url")
        if url is not None and (
            not isinstance(url, str) or not url.startswith(("https://", "http://"))
        ):
            reader.report_key("url", "`url` must be a web address")
        custom = reader.data.get("custom", {})
        if not isinstance(custom, dict) or not all(
            isinstance(v, str | int | float) for v in custom.values()
        ):
            reader.report_key("custom", "`custom` must be a table of text values")
            custom = {}
        presentation = reader.data.get("presentation", "window")
        if presentation not in ("window", "iframe"):
            reader.report_key("presentation", '`presentation` must be "window" or "iframe"')
        pass_mark = reader.integer("pass_mark", 0, 100, default=0)
        return {
            "tool": tool,
            "url": url,
            "custom": {str(k): str(v) for k, v in custom.items()},
            "presentation": presentation,
            "pass_mark": pass_mark,
        }

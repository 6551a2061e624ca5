"""Markdown to sanitised HTML (pure: no Flask, no database)."""

from __future__ import annotations

import re

import markdown
import nh3

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "dl",
    "dt",
    "em",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title"},
    "th": {"scope"},
    "td": set(),
}
URL_SCHEMES = {"http", "https", "mailto"}

_HEADING = re.compile(r"<(/?)h([1-6])(\b[^>]*)>")


def _demote_headings(html: str) -> str:
    """The page title is the only h1; body headings start at h2."""
    return _HEADING.sub(lambda m: f"<{m[1]}h{min(int(m[2]) + 1, 6)}{m[3]}>", html)


class MarkdownTooDeep(ValueError):
    """Lists or quotes nest deeper than the renderer can follow (it recurses)."""


_LEADING_TITLE = re.compile(r"\A\s*# [^\n]*\n")


def render_markdown(text: str, drop_leading_title: bool = False) -> str:
    """Render and sanitise. Module bodies may open with their own `# Title`, which the page
    already shows as its h1, so `drop_leading_title` removes it."""
    if drop_leading_title:
        text = _LEADING_TITLE.sub("", text, count=1)
    try:
        html = markdown.markdown(text, extensions=["extra", "sane_lists"], output_format="html")
    except RecursionError as error:
        raise MarkdownTooDeep from error
    return nh3.clean(
        _demote_headings(html),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )

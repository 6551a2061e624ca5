"""Fast RDF canonicalisation for documents of a shape seen before.

pyld spends ~50 ms on one credential, almost all of it processing the (type-scoped) contexts
again for every node. But what JSON-LD makes of a document depends only on its shape (keys,
types, contexts, array lengths, how each string would read as an IRI), never on the text of its
strings. So the first document of a shape goes through pyld once with each string replaced by a
unique marker; the quads that come out, with markers where the strings went, are that shape's
template. A later document of the same shape is its template with its own strings put back.

Blank nodes are then labelled by RDFC-1.0 itself: when every blank node's first-degree hash is
unique (our credentials: they differ by content), the canonical labels follow the sorted hashes.
Twin blank nodes (they need the n-degree hashes), quads that equal values made one, blank-node
ids in the input, a marker that did not come out whole: pyld canonicalises those documents.
tests/test_ob3_rdfc.py checks the result against pyld's, byte for byte.

The module also makes pyld write canonical N-Quads as RDFC-1.0 (and rdf-canonize 4, which the
JavaScript suites use) do; see `serialize_nquad`.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from operator import itemgetter
from typing import Any

import pyld.canon
import pyld.nquads
from pyld import jsonld
from pyld.nquads import RDF_LANGSTRING
from pyld.nquads import XSD_STRING

# pyld's own test for an absolute IRI (jsonld._is_absolute_iri)
_ABSOLUTE = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")
_MARK = "mk9q"
_TEMPLATES_MAX = 256


# Canonical N-Quads (RDFC-1.0, RDF 1.2 N-Quads "canonical form", as rdf-canonize 4 writes it):
# in a literal `"`, `\\` and the control characters are escaped (\b \t \n \f \r, else \u00XX);
# in an IRI, controls, space and <>"{}|^`\\ as \u00XX.
_LITERAL_ESCAPED = re.compile('[\x00-\x1f\x7f"\\\\]')
_IRI_ESCAPED = re.compile('[\x00-\x20<>"{}|^`\\\\]')
_ECHAR = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _uchar(found: re.Match[str]) -> str:
    return f"\\u{ord(found.group()):04X}"


@lru_cache(maxsize=4096)
def escape(value: str) -> str:
    """A literal's text in canonical N-Quads."""
    if _LITERAL_ESCAPED.search(value) is None:
        return value
    return _LITERAL_ESCAPED.sub(lambda found: _ECHAR.get(found.group()) or _uchar(found), value)


@lru_cache(maxsize=4096)
def iri_escape(value: str) -> str:
    if _IRI_ESCAPED.search(value) is None:
        return value
    return _IRI_ESCAPED.sub(_uchar, value)


def serialize_nquad(triple: dict[str, Any], graph_name: str | None = None) -> str:
    """pyld's serialize_nquad with the canonical escaping (pyld 3.3 escapes a literal's tab
    but not its other control characters, and no IRI at all: signatures would then differ from
    every other implementation's for such texts)."""
    parts = []
    for key in ("subject", "predicate", "object"):
        term = triple[key]
        if term["type"] == "IRI":
            parts.append(f"<{iri_escape(term['value'])}>")
        elif term["type"] == "blank node":
            parts.append(term["value"])
        else:
            text = f'"{escape(term["value"])}"'
            if term["datatype"] == RDF_LANGSTRING:
                text += f"@{term['language']}" if term.get("language") else ""
            elif term["datatype"] != XSD_STRING:
                text += f"^^<{iri_escape(term['datatype'])}>"
            parts.append(text)
    graph = triple.get("name", {"value": graph_name})["value"]
    if graph is not None:
        parts.append(graph if graph.startswith("_:") else f"<{iri_escape(graph)}>")
    return " ".join(parts) + " .\n"


pyld.nquads.escape = escape
pyld.nquads.serialize_nquad = serialize_nquad
pyld.canon.serialize_nquad = serialize_nquad  # the name URDNA2015 hashes and writes with


class Unsupported(Exception):
    """This document takes the generic way."""


def vocab_terms(contexts: list[dict[str, Any]]) -> frozenset[str]:
    """Terms whose string values are vocabulary terms (`"@type": "@vocab"`): their values are
    part of the shape, like `type`."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, dict) and value.get("@type") == "@vocab":
                    found.add(key)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for context in contexts:
        walk(context)
    return frozenset(found)


class Canonicaliser:
    """RDFC-1.0 N-Quads of JSON-LD documents, with templates per shape (see the module)."""

    def __init__(self, options: dict[str, Any], structural: frozenset[str]) -> None:
        self.options = options
        self.structural = frozenset({"@context", "type", "@type"}) | structural
        self.templates: OrderedDict[tuple, Template | None] = OrderedDict()
        self.lock = threading.Lock()

    def generic(self, document: dict[str, Any]) -> str:
        return jsonld.normalize(document, dict(self.options))

    def canonical(self, document: dict[str, Any]) -> str:
        try:
            tokens, values = self._shape(document)
        except Unsupported:
            return self.generic(document)
        shape = tuple(tokens)
        with self.lock:
            known = shape in self.templates
            template = self.templates.get(shape)
            if known:
                self.templates.move_to_end(shape)
        if not known:
            template = self._learn(document, tokens, values)
            with self.lock:
                self.templates[shape] = template
                while len(self.templates) > _TEMPLATES_MAX:
                    self.templates.popitem(last=False)
        result = None if template is None else template.canonical(values)
        return self.generic(document) if result is None else result

    # --- shapes ------------------------------------------------------------------------------

    def _shape(self, document: dict[str, Any]) -> tuple[list[Any], list[str]]:
        """The document's shape (keys, structure, types, contexts, string classes) and its
        strings in order. Written for speed: it runs for every document."""
        tokens: list[Any] = []
        values: list[str] = []
        token, value = tokens.append, values.append
        structural = self.structural

        def walk(node: Any) -> None:
            kind = type(node)
            if kind is str:
                token(_string_class(node) if ":" in node else _RELATIVE)
                value(node)
            elif kind is dict:
                token("{")
                for key, item in node.items():
                    token(key)
                    if key in structural:
                        token(repr(item))
                    else:
                        walk(item)
                token("}")
            elif kind is list:
                token("[")
                for item in node:
                    walk(item)
                token("]")
            elif node is None or kind is bool or kind is int or kind is float:
                token(repr(node))
            else:
                raise Unsupported

        walk(document)
        return tokens, values

    def _learn(self, document: dict[str, Any], tokens: list[Any], values: list[str]):  # noqa: ANN202
        """The template of this shape, or None when it cannot be trusted."""
        markers = [_marker(i, token) for i, token in enumerate(t for t in tokens if _is_class(t))]
        marked = self._replace(document, iter(markers))
        options = {k: v for k, v in self.options.items() if k not in ("format", "algorithm")}
        try:
            dataset = jsonld.to_rdf(marked, options)
        except jsonld.JsonLdError:
            return None
        return _template(dataset, {marker: i for i, marker in enumerate(markers)})

    def _replace(self, node: Any, markers: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: value if key in self.structural else self._replace(value, markers)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [self._replace(item, markers) for item in node]
        if isinstance(node, str):
            return next(markers)
        return node


_RELATIVE = ("rel",)


@lru_cache(maxsize=4096)
def _string_class(value: str) -> tuple[str, ...]:
    if value.startswith("_:"):
        raise Unsupported  # blank node ids of the input: pyld relabels them
    found = _ABSOLUTE.match(value)
    if found is None:
        return _RELATIVE
    scheme = found.group(1)
    return ("abs", scheme, value[len(scheme) + 1 :].startswith("//"))


def _is_class(token: Any) -> bool:
    return isinstance(token, tuple)


def _marker(index: int, token: tuple[str, ...]) -> str:
    if token[0] == "rel":
        return f"{_MARK}{index}z"
    return f"{token[1]}:{'//' if token[2] else ''}{_MARK}{index}z"


def _slot(text: str, markers: dict[str, int]) -> int | str | None:
    """A whole marker's index, the text itself when it holds no marker, None when a marker
    sits inside other text (the template cannot be trusted)."""
    if text in markers:
        return markers[text]
    return None if _MARK in text else text


def _template(dataset: dict[str, list[dict[str, Any]]], markers: dict[str, int]) -> Template | None:
    """The quads pyld made of the marked document, markers turned back into slots; None when a
    marker did not come out whole."""
    quads: list[list[Piece]] = []
    for graph_name, triples in dataset.items():
        graph: list[Piece] = []
        if graph_name != "@default":
            slot = _slot(graph_name, markers)
            if slot is None:
                return None
            graph = [" ", *_node(slot, graph_name.startswith("_:"))]
        for triple in triples:
            pieces: list[Piece] = []
            for key in ("subject", "predicate", "object"):
                term = triple[key]
                slot = _slot(term["value"], markers)
                if slot is None or (key == "predicate" and not isinstance(slot, str)):
                    return None
                if term["type"] == "literal":
                    pieces += _literal(slot, term["datatype"], term.get("language"))
                else:
                    pieces += _node(slot, term["type"] == "blank node")
                pieces.append(" ")
            pieces.pop()
            quads.append([*pieces, *graph, " .\n"])
    try:
        return Template(quads, len(markers))
    except Unsupported:
        return None


# A piece of an N-Quads line: fixed text, a value slot (index, escaped?) or a blank node label.
Piece = str | tuple[str, Any]


def _node(slot: int | str, blank: bool) -> list[Piece]:
    if blank:
        return [("blank", slot)]
    return ["<", ("iri", slot), ">"] if isinstance(slot, int) else [f"<{iri_escape(slot)}>"]


def _literal(slot: int | str, datatype: str, language: str | None) -> list[Piece]:
    if datatype == RDF_LANGSTRING:
        suffix = '"' + (f"@{language}" if language else "")
    else:
        suffix = '"' if datatype == XSD_STRING else f'"^^<{iri_escape(datatype)}>'
    if isinstance(slot, int):
        return ['"', ("text", slot), suffix]
    return [f'"{escape(slot)}{suffix}']


class Template:
    """One shape's quads as %-templates: escaped values (texts and IRIs) and blank node labels
    go in with one C-level format per document; which quads mention which blank node is fixed.

    Lines are joined by "\n", which no filled value holds (escaped in texts and IRIs alike);
    sorting lines without it is sorting them with it, as every other character of a line comes
    after "\n"."""

    def __init__(self, quads: list[list[Piece]], count: int) -> None:
        names: dict[Any, int] = {}
        lines: list[tuple[str, list[int]]] = []
        mentions: dict[int, list[int]] = {}
        texts: set[int] = set()
        iris: set[int] = set()
        for index, quad in enumerate(quads):
            text, fields = [], []
            for piece in _merge(quad):
                if isinstance(piece, str):
                    text.append(piece.removesuffix("\n").replace("%", "%%"))
                    continue
                text.append("%s")
                if piece[0] == "blank":
                    name = names.setdefault(piece[1], len(names))
                    fields.append(count + name)
                    if index not in mentions.setdefault(name, []):
                        mentions[name].append(index)
                else:
                    (texts if piece[0] == "text" else iris).add(piece[1])
                    fields.append(piece[1])
            lines.append(("".join(text), fields))
        if texts & iris:
            raise Unsupported  # one string both a text and an IRI: not from one JSON position
        self.count = count
        self.texts = sorted(texts)
        self.iris = sorted(iris)
        self.blanks = len(names)
        self.document = _joined(lines, range(len(lines)))
        self.mentions = [_joined(lines, mentions[name]) for name in range(len(names))]

    def canonical(self, values: list[str]) -> str | None:
        """None when equal values made two quads one, or two blank nodes look alike (the
        generic way decides those, rare in our documents)."""
        filled = list(values)
        for index in self.texts:
            filled[index] = escape(values[index])
        for index in self.iris:
            filled[index] = iri_escape(values[index])
        hashes = []
        for node, (text, pick) in enumerate(self.mentions):
            labels = ["_:z"] * self.blanks
            labels[node] = "_:a"
            lines = (text % pick(filled[: self.count] + labels)).split("\n")
            lines.sort()
            hashes.append(hashlib.sha256(("\n".join(lines) + "\n").encode("utf-8")).hexdigest())
        if len(set(hashes)) != len(hashes):  # twin blank nodes: n-degree hashing decides
            return None
        canonical = [""] * self.blanks
        for label, node in enumerate(sorted(range(self.blanks), key=hashes.__getitem__)):
            canonical[node] = f"_:c14n{label}"
        text, pick = self.document
        lines = (text % pick(filled[: self.count] + canonical)).split("\n")
        if len(set(lines)) != len(lines):
            # Equal values made two quads one: the hashes above counted it twice. (Relabelling
            # is one-to-one, so a duplicate here is exactly a duplicate before it.)
            return None
        lines.sort()
        return "\n".join(lines) + "\n"


def _joined(
    lines: list[tuple[str, list[int]]], indices: Any
) -> tuple[str, Callable[[list[str]], tuple[str, ...]]]:
    """Some lines as one %-template and the function that picks its values, in order."""
    chosen = [lines[i] for i in indices]
    fields = [field for _text, line_fields in chosen for field in line_fields]
    text = "\n".join(line for line, _fields in chosen)
    if not fields:
        return text, lambda filled: ()
    if len(fields) == 1:
        only = fields[0]
        return text, lambda filled: (filled[only],)
    return text, itemgetter(*fields)


def _merge(quad: list[Piece]) -> list[Piece]:
    merged: list[Piece] = []
    for piece in quad:
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        else:
            merged.append(piece)
    return merged

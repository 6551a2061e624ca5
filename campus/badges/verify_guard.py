"""Is a pasted document safe to canonicalise? RDF canonicalisation (RDFC-1.0) is exponential on
graphs whose blank nodes look alike: a 7-node clique, or a tree of identical siblings, keeps pyld
busy for minutes. Anyone can paste such a document naming our issuer and key (both public), so
the verifier canonicalises only documents shaped like the campus's credentials.

Accepted: contexts from the vendored set only (no inline context), no explicit blank node ids,
no `@list`, and every node's blank-node values of one property tell themselves apart by their
own statements (look-alike leaves of a named node excepted). Then every group of look-alike related blank nodes has a single member and
canonicalisation stays polynomial.
"""

from __future__ import annotations

import json
from typing import Any

from pyld import jsonld

MAX_CHARACTERS = 200_000  # a credential is a few kilobytes
MAX_NODES = 500


class _Refused(Exception):
    pass


def safe_to_canonicalise(document: Any) -> bool:
    from campus.badges.ob3 import dataintegrity

    if not isinstance(document, dict):
        return False
    contexts = document.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts]
    if not all(isinstance(c, str) and c in dataintegrity.CONTEXT_FILES for c in contexts):
        return False
    try:
        if len(json.dumps(document)) > MAX_CHARACTERS or _has_blank_ids(document):
            return False
        expanded = jsonld.expand(document, {"documentLoader": dataintegrity.load_document})
        _check(expanded, [0])
    except (_Refused, jsonld.JsonLdError, RecursionError, TypeError, ValueError):
        return False
    return True


def _has_blank_ids(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith("_:")
    if isinstance(value, dict):
        return any(k.startswith("@") and k != "@context" for k in value) or any(
            _has_blank_ids(v) for k, v in value.items() if k != "@context"
        )
    if isinstance(value, list):
        return any(_has_blank_ids(v) for v in value)
    return False


def _is_blank_node(value: Any) -> bool:
    return isinstance(value, dict) and "@value" not in value and "@id" not in value


def _is_leaf(node: dict[str, Any]) -> bool:
    return not any(
        _is_blank_node(item)
        for values in node.values()
        for item in (values if isinstance(values, list) else [values])
    )


def _statements(node: dict[str, Any]) -> str:
    """What a blank node says of itself, its blank children as one placeholder: equal for two
    nodes exactly when RDFC-1.0 would give them the same first-degree hash."""
    own = {}
    for key, values in node.items():
        items = values if isinstance(values, list) else [values]
        shown = {
            "_:z" if _is_blank_node(item) else json.dumps(item, sort_keys=True) for item in items
        }
        own[key] = sorted(shown)
    return json.dumps(own, sort_keys=True)


def _check(value: Any, count: list[int]) -> None:
    if isinstance(value, list):
        for item in value:
            _check(item, count)
        return
    if not isinstance(value, dict) or "@value" in value:
        return
    if "@list" in value:
        raise _Refused
    count[0] += 1
    if count[0] > MAX_NODES:
        raise _Refused
    named = "@id" in value
    for key, values in value.items():
        items = values if isinstance(values, list) else [values]
        # Look-alike leaves of a named node are harmless (nothing to permute): two evidence
        # entries with the same narrative, say.
        blanks = [
            _statements(item)
            for item in items
            if _is_blank_node(item) and not (named and _is_leaf(item))
        ]
        if len(blanks) != len(set(blanks)):
            raise _Refused  # look-alike siblings
        if key != "@type":
            _check(items, count)

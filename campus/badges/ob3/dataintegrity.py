"""Data Integrity proofs, cryptosuite `eddsa-rdfc-2022` (W3C "Data Integrity EdDSA Cryptosuites
v1.0"): RDF canonicalisation (RDFC-1.0, which pyld calls URDNA2015) of the proof options and of
the document, SHA-256 of each, an Ed25519 signature of the two hashes, base58btc multibase.

JSON-LD contexts come from the files in ./contexts only: the loader never fetches, and any other
URL is an error. JSON-LD drops a term no context defines without a word (the proof would then
not cover it), so `dropped_terms` checks that every property of a document survives expansion.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pyld import jsonld

from campus.badges.models import SigningKey
from campus.badges.ob2 import iso
from campus.badges.ob3 import multibase
from campus.badges.ob3 import rdfc
from campus.badges.ob3.keys import load_ed25519_private

CONTEXTS_DIR = Path(__file__).parent / "contexts"
# Every context the campus's documents name, as vendored from the npm context packages
# (contexts/README.md says which).
CONTEXT_FILES = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-context-3.0.3.json",
    "https://www.w3.org/ns/credentials/status/v1": "vc-bitstring-status-list-v1.jsonld",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
}
PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
PURPOSE = "assertionMethod"


class OfflineLoaderError(jsonld.JsonLdError):
    """A document named a context the campus does not hold: nothing is ever fetched."""


@cache
def _context_text(url: str) -> str:
    return (CONTEXTS_DIR / CONTEXT_FILES[url]).read_text(encoding="utf-8")


def load_document(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader over the vendored contexts; raises for any other URL."""
    if url not in CONTEXT_FILES:
        raise OfflineLoaderError(
            f"context {url} is not vendored (nothing is fetched)",
            "jsonld.LoadDocumentError",
            code="loading document failed",
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads(_context_text(url)),
    }


_OPTIONS = {
    "algorithm": "URDNA2015",  # RDFC-1.0 (same output; pyld 3.3 knows the older name)
    "format": "application/n-quads",
    "documentLoader": load_document,
    "base": None,  # as the JavaScript suites: a relative IRI stays relative (and is refused)
}


# The fast way (rdfc.py: one pyld run per document shape, then templates); False: pyld always.
FAST_CANONICAL = True
_canonicaliser = rdfc.Canonicaliser(
    _OPTIONS,
    rdfc.vocab_terms([json.loads(_context_text(url)) for url in CONTEXT_FILES]),
)


def canonical(document: dict[str, Any]) -> str:
    """RDFC-1.0 N-Quads of a JSON-LD document."""
    if FAST_CANONICAL:
        return _canonicaliser.canonical(document)
    return jsonld.normalize(document, dict(_OPTIONS))


def without_proof(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "proof"}


def proof_options(document: dict[str, Any], verification_method: str, created: datetime) -> dict:
    """The proof without its value, in the document's @context (the proof configuration)."""
    return {
        "@context": document["@context"],
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": iso(created),
        "verificationMethod": verification_method,
        "proofPurpose": PURPOSE,
    }


def hash_data(unsigned: dict[str, Any], options: dict[str, Any]) -> bytes:
    """sha256(canonical proof configuration) || sha256(canonical document)."""
    return (
        hashlib.sha256(canonical(options).encode("utf-8")).digest()
        + hashlib.sha256(canonical(unsigned).encode("utf-8")).digest()
    )


def sign(
    document: dict[str, Any],
    key: SigningKey,
    verification_method: str,
    created: datetime,
    keys_dir: Path,
    passphrase: str | None,
) -> dict[str, Any]:
    """A copy of `document` with `proof` (a one-item list, as the OB 3.0 JSON schema wants);
    the copy shares its nested values with `document`."""
    unsigned = without_proof(document)
    options = proof_options(unsigned, verification_method, created)
    private = load_ed25519_private(key, keys_dir, passphrase)
    signature = private.sign(hash_data(unsigned, options))
    proof = {k: v for k, v in options.items() if k != "@context"}
    proof["proofValue"] = multibase.encode(signature)
    signed = dict(unsigned)
    signed["proof"] = [proof]
    return signed


def proofs_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    proof = document.get("proof")
    if isinstance(proof, dict):
        return [proof]
    return [p for p in proof if isinstance(p, dict)] if isinstance(proof, list) else []


def verify(
    document: dict[str, Any], public_key_for: Callable[[str], Ed25519PublicKey | None]
) -> bool:
    """True when one eddsa-rdfc-2022 assertion proof verifies with the key its
    verificationMethod names (`public_key_for` answers None for a method it does not trust)."""
    if not isinstance(document, dict) or "@context" not in document:
        return False
    unsigned = without_proof(document)
    for proof in proofs_of(document):
        if (proof.get("type"), proof.get("cryptosuite"), proof.get("proofPurpose")) != (
            PROOF_TYPE,
            CRYPTOSUITE,
            PURPOSE,
        ):
            continue
        method, value = proof.get("verificationMethod"), proof.get("proofValue")
        if not isinstance(method, str) or not isinstance(value, str):
            continue
        public = public_key_for(method)
        if not isinstance(public, Ed25519PublicKey):
            continue
        options = {k: v for k, v in proof.items() if k != "proofValue"}
        options["@context"] = document["@context"]
        try:
            signature = multibase.decode(value)
            public.verify(signature, hash_data(unsigned, options))
        except (InvalidSignature, ValueError, TypeError, KeyError, RecursionError):
            continue  # a pasted document may be anything: never a 500, just no proof
        except jsonld.JsonLdError:
            continue
        return True
    return False


def dropped_terms(document: dict[str, Any]) -> list[str]:
    """What JSON-LD expansion would lose or leave relative: an empty list when every property
    of `document` is defined by its contexts and every type and id is an absolute IRI."""
    expanded = jsonld.expand(document, {"documentLoader": load_document, "base": None})
    problems: list[str] = []
    given = _count_properties(document)
    kept = _count_expanded(expanded, problems)
    if given != kept:
        problems.append(f"{given - kept} of {given} properties are not defined by the contexts")
    return problems


def _count_properties(node: Any) -> int:
    if isinstance(node, list):
        return sum(_count_properties(item) for item in node)
    if not isinstance(node, dict):
        return 0
    return sum(
        (0 if key.startswith("@") or key in ("id", "type") else 1) + _count_properties(value)
        for key, value in node.items()
        if key != "@context"
    )


def _count_expanded(node: Any, problems: list[str]) -> int:
    if isinstance(node, list):
        return sum(_count_expanded(item, problems) for item in node)
    if not isinstance(node, dict):
        return 0
    count = 0
    for key, value in node.items():
        if key in ("@id", "@type") and "@value" not in node:
            for iri in value if isinstance(value, list) else [value]:
                if isinstance(iri, str) and ":" not in iri:
                    problems.append(f"relative IRI {iri!r} in {key}")
        if not key.startswith("@"):
            count += 1
        count += _count_expanded(value, problems)
    return count

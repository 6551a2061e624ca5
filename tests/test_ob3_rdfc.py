"""The fast canonicaliser (campus.badges.ob3.rdfc) gives pyld's RDFC-1.0 output, byte for byte:
credentials of every shape with awkward texts, proof options, status lists, DID documents and
documents it must hand to pyld (blank-node ids, duplicates, twin blank nodes)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from pyld import jsonld

from campus.badges.ob3 import dataintegrity
from campus.badges.ob3 import rdfc

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


def pyld_canonical(document: dict[str, Any]) -> str:
    return jsonld.normalize(copy.deepcopy(document), dict(dataintegrity._OPTIONS))


def fast_canonical(document: dict[str, Any]) -> str:
    return dataintegrity._canonicaliser.canonical(document)


def same(document: dict[str, Any]) -> str:
    expected = pyld_canonical(document)
    assert fast_canonical(document) == expected
    assert fast_canonical(copy.deepcopy(document)) == expected  # from its template, again
    return expected


def credential(
    name: str = "Perusteet",
    narrative: str = "Suorita polku.",
    evidence: list[dict[str, Any]] | None = None,
    tags: list[str] | None = None,
    alignments: int = 1,
    until: bool = False,
    salt: str = "abc",
) -> dict[str, Any]:
    base = "https://campus.test"
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": f"{base}/ob/v3/credentials/1",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": name,
        "issuer": {"id": "did:web:campus.test", "type": ["Profile"], "name": "Campus"},
        "validFrom": "2026-11-23T12:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": "sha256$00ff",
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": salt,
                }
            ],
            "achievement": {
                "id": f"{base}/ob/v3/achievements/a",
                "type": ["Achievement"],
                "name": name,
                "description": name + " kuvaus",
                "criteria": {"narrative": narrative},
                "alignment": [
                    {
                        "type": ["Alignment"],
                        "targetName": f"DigCompEdu {i}",
                        "targetUrl": "https://example.org/digcompedu",
                    }
                    for i in range(alignments)
                ],
            },
        },
    }
    if tags:
        document["credentialSubject"]["achievement"]["tag"] = tags
    if evidence:
        document["evidence"] = evidence
    if until:
        document["validUntil"] = "2027-11-23T12:00:00Z"
    return document


AWKWARD = st.lists(
    st.sampled_from(
        list('aäö Z:/_."\\\t\n\r{}<>#$%é€😀') + ["http", "https:", "_:", "urn:x", "\u2028"]
    ),
    max_size=8,
).map("".join)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=AWKWARD,
    narrative=AWKWARD,
    evidence=st.lists(
        st.fixed_dictionaries(
            {"type": st.just(["Evidence"]), "narrative": AWKWARD},
            optional={"id": st.sampled_from(["https://example.org/e", "mailto:a@b.c", "x y"])},
        ),
        max_size=3,
    ),
    tags=st.lists(AWKWARD, max_size=3),
    alignments=st.integers(0, 3),
    until=st.booleans(),
    salt=AWKWARD,
)
def test_credentials_of_any_shape_and_text(
    name: str,
    narrative: str,
    evidence: list[dict[str, Any]],
    tags: list[str],
    alignments: int,
    until: bool,
    salt: str,
) -> None:
    same(credential(name, narrative, evidence, tags, alignments, until, salt))


def test_the_same_shape_with_other_texts_uses_one_template() -> None:
    first = same(credential("Yksi", "Eka", tags=["a", "b"]))
    second = same(credential('Kaksi "lainaus" \\ ja\ttab', "Toka\nrivi", tags=["c", "d"]))
    assert first != second
    assert "\\t" in second and "\t" not in second  # as rdf-canonize 4 writes a tab


def test_equal_values_that_merge_quads() -> None:
    same(credential(tags=["sama", "sama"]))
    same(credential(alignments=2))  # two alignment nodes alike but for their names
    twins = credential(alignments=2)
    for item in twins["credentialSubject"]["achievement"]["alignment"]:
        item["targetName"] = "Same"  # two identical blank nodes: n-degree hashing decides
    same(twins)


def test_proof_options_status_lists_and_did_documents() -> None:
    same(
        {
            "@context": CONTEXT,
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2026-11-23T12:00:00Z",
            "verificationMethod": "did:web:campus.test#k1",
            "proofPurpose": "assertionMethod",
        }
    )
    same(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "https://campus.test/ob/v3/issuers/campus/status/0",
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": "did:web:campus.test",
            "validFrom": "2026-11-23T12:00:00Z",
            "credentialSubject": {
                "id": "https://campus.test/ob/v3/issuers/campus/status/0#list",
                "type": "BitstringStatusList",
                "statusPurpose": "revocation",
                "encodedList": "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",
            },
        }
    )
    same(
        {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": "did:web:campus.test",
            "verificationMethod": [
                {
                    "id": "did:web:campus.test#k1",
                    "type": "Multikey",
                    "controller": "did:web:campus.test",
                    "publicKeyMultibase": "z6MkhEvoMnJT69H7roCj686qYXXngEQt9gNYLpS7Ub7kyneS",
                }
            ],
            "assertionMethod": ["did:web:campus.test#k1"],
        }
    )


def test_signed_documents_with_a_proof_graph() -> None:
    signed = credential()
    signed["proof"] = [
        {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2026-11-23T12:00:00Z",
            "verificationMethod": "did:web:campus.test#k1",
            "proofPurpose": "assertionMethod",
            "proofValue": "z3abc",
        }
    ]
    same(signed)


@pytest.mark.parametrize(
    "document",
    [
        credential(evidence=[{"id": "_:b0", "type": ["Evidence"], "narrative": "x"}]),
        {"@context": CONTEXT, "name": 3.5, "id": "https://x.test/"},
        {"@context": CONTEXT, "id": "https://x.test/", "name": None, "description": "d"},
    ],
)
def test_what_goes_to_pyld_still_agrees(document: dict[str, Any]) -> None:
    same(document)


def test_an_unknown_context_is_still_refused() -> None:
    document = credential()
    document["@context"] = [*CONTEXT, "https://example.org/other.jsonld"]
    with pytest.raises(jsonld.JsonLdError):
        dataintegrity.canonical(document)
    with pytest.raises(jsonld.JsonLdError):
        dataintegrity.canonical(document)  # a failed shape is remembered as such


def test_escape_follows_canonical_n_quads() -> None:
    """RDF 1.2 canonical N-Quads, as rdf-canonize 4 (the JavaScript suites) writes them."""
    assert rdfc.escape('a"b\\c\nd\re\tf\x08g\x0ch\x01\x7f') == (
        'a\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0001\\u007F'
    )
    assert rdfc.iri_escape("https://x.test/a b<c>") == "https://x.test/a\\u0020b\\u003Cc\\u003E"

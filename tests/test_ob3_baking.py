"""Baked OB 3.0 images (OB 3.0 "Baked Badge": PNG iTXt `openbadgecredential`, SVG
`<openbadges:credential>`) and the download routes that serve them beside the 2.0 editions."""

from __future__ import annotations

import functools
import io
import json
import re
import struct
import zlib
from xml.dom.minidom import parseString

import openbadges_bakery
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from PIL import Image

from campus.badges import artwork
from campus.badges.ob3.baking import KEYWORD
from campus.badges.ob3.baking import NAMESPACE
from campus.badges.ob3.baking import PNG_SIGNATURE
from campus.badges.ob3.baking import BakingError
from campus.badges.ob3.baking import bake_credential
from campus.badges.ob3.baking import unbake_credential

CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "name": 'Perusteet – åäö ]]> <svg> & "quotes"',
    "credentialSubject": {"type": ["AchievementSubject"], "n": [1, 2.5, None, True]},
    "proof": {"type": "DataIntegrityProof", "proofValue": "z3FXQ"},
}
JWS = "eyJhbGciOiJSUzI1NiJ9.eyJ2YyI6e319.c2lnbmF0dXJl-_x"
RECIPE = artwork.recipe({"fi": "Perus", "sv": "Grund", "en": "Basics"}, {}, "#0b5fa5")


@functools.lru_cache(maxsize=16)
def drawn(language: str, fmt: str) -> bytes:
    """A drawn badge's artwork in `language`, as the downloads take it (artwork.edition)."""
    canonical_svg = artwork.draw_svg("Perus", "#0b5fa5", "Perus", "fi", RECIPE)
    canonical_png = artwork.draw_png("Perus", "#0b5fa5")
    return artwork.edition(canonical_png, canonical_svg, language, fmt)


def png_chunks(image: bytes) -> list[tuple[bytes, bytes]]:
    chunks, offset = [], len(PNG_SIGNATURE)
    while offset < len(image):
        (length,) = struct.unpack(">I", image[offset : offset + 4])
        chunks.append((image[offset + 4 : offset + 8], image[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return chunks


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
@pytest.mark.parametrize("fmt", ["png", "svg"])
@pytest.mark.parametrize("credential", [CREDENTIAL, JWS], ids=["json", "jwt"])
def test_every_artwork_edition_round_trips(language: str, fmt: str, credential) -> None:
    image = drawn(language, fmt)
    baked = bake_credential(image, fmt, credential)
    assert unbake_credential(baked) == credential
    assert unbake_credential(image) is None  # the artwork itself carries nothing
    if fmt == "png":
        Image.open(io.BytesIO(baked)).load()  # still a valid PNG, every CRC right
        assert Image.open(io.BytesIO(baked)).size == Image.open(io.BytesIO(image)).size
    else:
        parseString(baked)  # still well-formed XML


def test_non_finnish_editions_differ_but_carry_the_same_credential() -> None:
    fi, sv = (bake_credential(drawn(lang, "svg"), "svg", CREDENTIAL) for lang in ("fi", "sv"))
    assert fi != sv and b">Grund</text>" in sv and b">Perus</text>" in fi
    assert unbake_credential(fi) == unbake_credential(sv) == CREDENTIAL


def test_png_chunk_is_the_one_the_spec_describes() -> None:
    baked = bake_credential(drawn("fi", "png"), "png", CREDENTIAL)
    chunks = png_chunks(baked)
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    ours = [data for kind, data in chunks if kind == b"iTXt" and data.startswith(KEYWORD + b"\0")]
    assert len(ours) == 1
    # keyword NUL, compression flag 0 (MUST NOT compress), method 0, empty language and
    # translated keyword, then the JSON credential as UTF-8 text
    header, text = ours[0][: len(KEYWORD) + 5], ours[0][len(KEYWORD) + 5 :]
    assert header == KEYWORD + b"\0\0\0\0\0"
    assert json.loads(text.decode("utf-8")) == CREDENTIAL
    jwt_chunks = png_chunks(bake_credential(drawn("fi", "png"), "png", JWS))
    assert (b"iTXt", KEYWORD + b"\0\0\0\0\0" + JWS.encode()) in jwt_chunks


def test_svg_element_is_the_one_the_spec_describes() -> None:
    baked = bake_credential(drawn("fi", "svg"), "svg", CREDENTIAL)
    root = parseString(baked).documentElement
    assert root.getAttribute("xmlns:openbadges") == NAMESPACE
    first = next(node for node in root.childNodes if node.nodeType == node.ELEMENT_NODE)
    assert (first.namespaceURI, first.localName, first.tagName) == (
        NAMESPACE,
        "credential",
        "openbadges:credential",
    )
    assert not first.hasAttribute("verify")
    cdata = [node for node in first.childNodes if node.nodeType == node.CDATA_SECTION_NODE]
    assert len(cdata) == 1 and json.loads(cdata[0].data) == CREDENTIAL
    signed = parseString(bake_credential(drawn("fi", "svg"), "svg", JWS)).documentElement
    element = signed.getElementsByTagNameNS(NAMESPACE, "credential")[0]
    assert element.getAttribute("verify") == JWS and not element.childNodes


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_baking_again_replaces_the_credential(fmt: str) -> None:
    once = bake_credential(drawn("fi", fmt), fmt, CREDENTIAL)
    twice = bake_credential(once, fmt, JWS)
    assert unbake_credential(twice) == JWS
    if fmt == "png":
        assert sum(1 for kind, data in png_chunks(twice) if data.startswith(KEYWORD)) == 1
    else:
        assert twice.count(b"<openbadges:credential") == 1


def test_own_png_artwork_bakes_as_png_and_as_its_svg() -> None:
    own = Image.new("RGBA", (64, 64), (200, 30, 30, 255))
    buffer = io.BytesIO()
    own.save(buffer, "PNG")
    png, svg = artwork.own_editions("png", buffer.getvalue(), "Own", None)
    assert unbake_credential(bake_credential(png, "png", CREDENTIAL)) == CREDENTIAL
    assert unbake_credential(bake_credential(svg, "svg", JWS)) == JWS


def test_2_0_baked_images_are_not_3_0_credentials() -> None:
    for fmt in ("png", "svg"):
        image = drawn("fi", fmt)
        baked_2 = openbadges_bakery.bake(io.BytesIO(image), JWS, io.BytesIO()).getvalue()
        assert openbadges_bakery.unbake(io.BytesIO(baked_2)) == JWS
        assert unbake_credential(baked_2) is None
    # and a 3.0 image is nothing to the 2.0 reader
    baked_3 = bake_credential(drawn("fi", "png"), "png", JWS)
    assert openbadges_bakery.unbake(io.BytesIO(baked_3)) is None


def test_cannot_bake_what_is_no_image_or_binds_the_prefix_elsewhere() -> None:
    with pytest.raises(BakingError):
        bake_credential(b"GIF89a....", "png", CREDENTIAL)
    with pytest.raises(BakingError):
        bake_credential(b"<html></html>", "svg", CREDENTIAL)
    with pytest.raises(BakingError):
        bake_credential(drawn("fi", "png"), "gif", CREDENTIAL)
    two_oh = openbadges_bakery.bake(io.BytesIO(drawn("fi", "svg")), JWS, io.BytesIO()).getvalue()
    with pytest.raises(BakingError):  # xmlns:openbadges is the 2.0 namespace there
        bake_credential(two_oh, "svg", CREDENTIAL)


def _with_itxt(data: bytes) -> bytes:
    image = drawn("fi", "png")
    head = len(PNG_SIGNATURE) + 8 + 13 + 4  # after IHDR
    return image[:head] + chunk(b"iTXt", data) + image[head:]


OB3_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="' + NAMESPACE.encode() + b'">'
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    + OB3_SVG
    + b"<openbadges:credential>&c;</openbadges:credential></svg>"
)
EXTERNAL = (
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    + OB3_SVG
    + b"<openbadges:credential>&x;</openbadges:credential></svg>"
)
WRONG_NAMESPACE = (
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
    b'<openbadges:credential verify="a.b.c"/></svg>'
)


@pytest.mark.parametrize(
    "image",
    [
        b"",
        b"hello",
        PNG_SIGNATURE,
        b"<svg",
        b"<svg xmlns='http://www.w3.org/2000/svg'><unclosed></svg>",
        LAUGHS,
        EXTERNAL,
        WRONG_NAMESPACE,
        _with_itxt(KEYWORD + b"\0\1\0\0\0" + zlib.compress(JWS.encode())),  # compressed
        _with_itxt(KEYWORD + b"\0\0\0\0\0" + b'["not", "an object"]'),
        _with_itxt(KEYWORD + b"\0\0\0\0\0" + b"{broken json"),
        _with_itxt(KEYWORD + b"\0\0\0\0\0" + b"https://campus.test/ob/v3/credentials/x"),
        _with_itxt(KEYWORD + b"\0\0\0\0\0" + b"\xff\xfe not utf-8"),
        _with_itxt(b"openbadges\0\0\0\0\0" + JWS.encode()),  # the 2.0 keyword
        _with_itxt(KEYWORD),  # no separator at all
    ],
    ids=lambda image: repr(image[:24]),
)
def test_unbake_says_none_for_anything_else(image: bytes) -> None:
    assert unbake_credential(image) is None


def test_unbake_says_none_for_cut_or_corrupted_pngs() -> None:
    baked = bake_credential(drawn("fi", "png"), "png", CREDENTIAL)
    start = baked.index(b"iTXt")
    assert unbake_credential(baked[: start + 40]) is None  # cut inside the chunk
    flipped = bytearray(baked)
    flipped[start + 30] ^= 0xFF  # the chunk's CRC no longer matches
    assert unbake_credential(bytes(flipped)) is None


@functools.lru_cache(maxsize=2)
def baked_once(fmt: str) -> bytes:
    return bake_credential(drawn("fi", fmt), fmt, CREDENTIAL)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_unbake_never_raises_on_mutated_images(data: st.DataObject) -> None:
    fmt = data.draw(st.sampled_from(["png", "svg"]))
    baked = bytearray(baked_once(fmt))
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(baked) - 1))
        baked[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(baked)))
    result = unbake_credential(bytes(baked[:cut]))
    assert result is None or isinstance(result, (dict, str))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_unbake_never_raises_on_random_bytes(noise: bytes) -> None:
    for image in (noise, PNG_SIGNATURE + noise, b"<svg " + noise):
        assert unbake_credential(image) is None or isinstance(unbake_credential(image), dict | str)


# --- the download routes ---------------------------------------------------------------------


@pytest.fixture
def awarded(app: Flask, make_user) -> str:
    """A learner's fresh award of the test badge "basics" (its uuid)."""
    from tests.ob3_support import award_basics

    return award_basics(app, make_user)


def test_downloads_are_attachments_of_the_right_kinds(client: FlaskClient, awarded: str) -> None:
    base = f"/badges/a/{awarded}"
    json_answer = client.get(f"{base}/ob3.json")
    assert json_answer.status_code == 200
    assert json_answer.mimetype == "application/vc+ld+json"
    assert json_answer.headers["Access-Control-Allow-Origin"] == "*"
    assert re.fullmatch(
        r'attachment; filename="basics-[0-9a-f]{8}-ob3\.json"',
        json_answer.headers["Content-Disposition"],
    )
    credential = json_answer.get_json(force=True)
    assert "OpenBadgeCredential" in credential["type"]
    proofs = credential["proof"] if isinstance(credential["proof"], list) else [credential["proof"]]
    assert [proof["cryptosuite"] for proof in proofs] == ["eddsa-rdfc-2022"]

    jwt_answer = client.get(f"{base}/ob3.jwt")
    assert jwt_answer.status_code == 200 and jwt_answer.mimetype == "text/plain"
    assert jwt_answer.headers["Content-Disposition"].endswith('-ob3.jwt"')
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", jwt_answer.get_data(as_text=True))

    for fmt, mimetype in (("png", "image/png"), ("svg", "image/svg+xml")):
        image = client.get(f"{base}/ob3.{fmt}")
        assert image.status_code == 200 and image.mimetype == mimetype
        assert image.headers["Content-Disposition"].endswith(f'-ob3.{fmt}"')
        # the baked image carries exactly the JSON download
        assert unbake_credential(image.data) == credential
    svg = client.get(f"{base}/ob3.svg")
    assert svg.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_image_editions_follow_the_page_language(client: FlaskClient, awarded: str) -> None:
    english = client.get(f"/badges/a/{awarded}/ob3.svg")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "sv"
    swedish = client.get(f"/badges/a/{awarded}/ob3.svg")
    assert english.data != swedish.data
    assert unbake_credential(english.data) == unbake_credential(swedish.data)


def test_downloads_answer_304_to_their_etag(client: FlaskClient, awarded: str) -> None:
    for suffix in ("ob3.json", "ob3.jwt", "ob3.png", "ob3.svg"):
        first = client.get(f"/badges/a/{awarded}/{suffix}")
        assert first.headers["ETag"]
        again = client.get(
            f"/badges/a/{awarded}/{suffix}", headers={"If-None-Match": first.headers["ETag"]}
        )
        assert again.status_code == 304 and again.data == b""


def test_unknown_and_revoked_awards_are_not_handed_out(
    app: Flask, client: FlaskClient, awarded: str
) -> None:
    from campus.badges.revocation import find_assertion
    from campus.badges.revocation import revoke
    from campus.extensions import db
    from tests.conftest import now

    assert client.get("/badges/a/no-such-award/ob3.json").status_code == 404
    assert client.get(f"/badges/a/{awarded}/ob3.gif").status_code == 404
    with app.app_context():
        revoke(find_assertion(awarded), "Issued by mistake", now())
        db.session.commit()
    for suffix in ("ob3.json", "ob3.jwt", "ob3.png", "ob3.svg"):
        assert client.get(f"/badges/a/{awarded}/{suffix}").status_code == 410


def test_pages_offer_both_standards_side_by_side(client: FlaskClient, auth, awarded: str) -> None:
    auth.login()
    for page in (client.get("/badges/backpack"), client.get(f"/badges/a/{awarded}")):
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        for href in ("badge.png", "badge.svg", "ob3.json", "ob3.jwt", "ob3.png", "ob3.svg"):
            assert f"/badges/a/{awarded}/{href}" in html
        assert "Open Badges 2.0" in html and "Open Badges 3.0" in html
        assert "LinkedIn" in html and "wallets" in html  # one sentence each: where to use it
    auth.logout()
    public = client.get(f"/badges/a/{awarded}").get_data(as_text=True)
    assert "ob3.json" not in public  # downloads are the owner's, as for 2.0
    assert f"/ob/v3/credentials/{awarded}" in public  # verifiers find the credential


def test_the_campus_verifier_reads_both_baked_3_0_images(
    app: Flask, client: FlaskClient, awarded: str
) -> None:
    from campus.badges import verify
    from campus.badges.issuers import IssuingContext
    from campus.clock import utcnow

    images = [client.get(f"/badges/a/{awarded}/ob3.{fmt}").data for fmt in ("png", "svg")]
    with app.app_context():
        urls = IssuingContext.from_config(app.config).urls
        for image in images:
            result = verify.verify_image(image, urls, utcnow(), "learner@example.org")
            assert result.valid and result.standard == "3.0", result

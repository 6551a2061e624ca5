"""Issue 13, items 7, 8, 11 and 14 (part): the badge moment, sharing, verifying, revoking."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from flask import Flask
from flask import render_template
from flask.testing import FlaskClient

from campus.auth.login import sign_in
from campus.auth.models import Role
from campus.auth.models import User
from campus.badges.awarding import award
from campus.badges.issuers import IssuingContext
from campus.badges.issuers import get_badge
from campus.badges.models import Assertion
from campus.badges.models import AwardSource
from campus.badges.pages import badge_moments
from campus.badges.pages import linkedin_add_url
from campus.badges.revocation import revoke
from campus.badges.web import EARNED
from campus.extensions import db
from tests.conftest import BASE_URL
from tests.conftest import PASSWORD
from tests.conftest import now

BASE_HTML = Path(__file__).parents[1] / "campus/templates/base.html"
FOLLOWUPS = Path(__file__).parents[1] / "campus/badges/followups.py"


def give(app: Flask, user_id: int, slug: str = "basics") -> str:
    """Award a badge directly; returns the assertion's uuid."""
    with app.app_context():
        user = db.session.get(User, user_id)
        result = award(
            user, get_badge(slug), IssuingContext.from_config(app.config), now(), AwardSource.PATH
        )
        db.session.commit()
        return result.assertion.uuid


def login(client: FlaskClient, email: str) -> None:
    assert (
        client.post("/auth/login", data={"email": email, "password": PASSWORD}).status_code == 302
    )


def meta(page: str, key: str) -> str | None:
    found = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', page)
    return unescape(found[1]) if found else None


# --- 8: web backpacks, Open Graph, copy link, LinkedIn, revoked badges --------------------------


def test_ob_errors_are_json_and_everything_under_ob_is_cors_open(client: FlaskClient) -> None:
    for url in ("/ob/badges/nope", "/ob/badges/nope/image.png", "/ob/nothing/here", "/ob/"):
        response = client.get(url, headers={"Accept": "text/html"})
        assert response.status_code == 404, url
        assert response.mimetype == "application/json" and response.json["error"] == 404, url
        assert response.headers["Access-Control-Allow-Origin"] == "*", url
    image = client.get("/ob/badges/basics/image.png")
    assert image.mimetype == "image/png" and image.headers["Access-Control-Allow-Origin"] == "*"


def test_baked_download_is_open_to_backpacks_and_refused_once_revoked(
    app: Flask, client: FlaskClient, make_user
) -> None:
    uuid = give(app, make_user())
    png = client.get(f"/badges/a/{uuid}/badge.png")
    assert png.status_code == 200 and png.headers["Access-Control-Allow-Origin"] == "*"
    with app.app_context():
        revoke(db.session.execute(db.select(Assertion)).scalar_one(), "Issued in error", now())
        db.session.commit()
    assert client.get(f"/badges/a/{uuid}/badge.png").status_code == 410
    assert client.get(f"/badges/a/{uuid}/badge.svg").status_code == 410


def test_public_badge_pages_carry_open_graph_and_twitter_cards(
    app: Flask, client: FlaskClient, make_user
) -> None:
    uuid = give(app, make_user())
    page = client.get(f"/badges/a/{uuid}").get_data(as_text=True)
    assert meta(page, "og:title") == "Basics badge"
    assert meta(page, "og:description") == "Completed the basics."
    assert meta(page, "og:image") == f"{BASE_URL}/ob/badges/basics/image.png?lang=en"
    assert meta(page, "og:url") == f"{BASE_URL}/badges/a/{uuid}"
    assert meta(page, "twitter:card") == "summary"
    assert client.get(meta(page, "og:image").removeprefix(BASE_URL)).mimetype == "image/png"
    detail = client.get("/badges/basics").get_data(as_text=True)
    assert meta(detail, "og:url") == f"{BASE_URL}/badges/basics"
    assert meta(detail, "og:image").startswith(f"{BASE_URL}/ob/badges/basics/image.png")


def test_owner_gets_copy_link_and_linkedin_add_to_profile(
    app: Flask, client: FlaskClient, make_user
) -> None:
    uuid = give(app, make_user())
    public = client.get(f"/badges/a/{uuid}").get_data(as_text=True)
    assert 'id="share-url" type="url" readonly' in public  # the no-JS fallback
    assert "data-bm-copy" in public and "js/badgemoment-copy.js" in public
    assert "linkedin.com/profile/add" not in public  # only the earner adds it to a profile
    login(client, "learner@example.org")
    page = client.get(f"/badges/a/{uuid}").get_data(as_text=True)
    link = unescape(re.search(r'href="(https://www\.linkedin\.com/profile/add\?[^"]+)"', page)[1])
    query = {key: values[0] for key, values in parse_qs(urlsplit(link).query).items()}
    assert query == {
        "startTask": "CERTIFICATION_NAME",
        "name": "Basics badge",
        "organizationName": query["organizationName"],
        "issueYear": "2026",
        "issueMonth": "11",
        "certId": uuid,
        "certUrl": f"{BASE_URL}/badges/a/{uuid}",
    }
    assert query["organizationName"]
    assert f"/badges/a/{uuid}/badge.png" in page


def test_linkedin_add_to_profile_names_the_expiry(app: Flask, make_user) -> None:
    uuid = give(app, make_user())
    with app.test_request_context():
        assertion = db.session.execute(db.select(Assertion)).scalar_one()
        assertion.expires_at = assertion.issued_at + timedelta(days=400)
        query = parse_qs(urlsplit(linkedin_add_url(assertion, "https://x.test/a")).query)
    assert query["expirationYear"] == ["2027"] and query["expirationMonth"] == ["12"]
    assert query["certId"] == [uuid]


def test_a_revoked_badge_offers_no_sharing_or_downloads(
    app: Flask, client: FlaskClient, make_user
) -> None:
    uuid = give(app, make_user())
    with app.app_context():
        revoke(db.session.execute(db.select(Assertion)).scalar_one(), "Issued in error", now())
        db.session.commit()
    login(client, "learner@example.org")
    page = client.get(f"/badges/a/{uuid}").get_data(as_text=True)
    assert "This badge was revoked" in page
    for offer in ("share-url", "linkedin.com", "/badge.png", "/badge.svg", "Copy link"):
        assert offer not in page, offer
    assert meta(page, "og:title") == "Basics badge (revoked)"
    backpack = client.get("/badges/backpack").get_data(as_text=True)
    assert "Revoked" in backpack and "/badge.png" not in backpack


# --- 7: the badge moment --------------------------------------------------------------------


def test_badge_moment_is_one_message_with_image_meaning_and_next_steps(
    app: Flask, make_user
) -> None:
    learner = make_user()
    other = make_user("other@example.org")
    uuid = give(app, learner)
    someone_elses = give(app, other)
    flashed = [
        ("success", "Module completed."),
        ("success", "Congratulations! You completed the whole path."),
        (f"{EARNED}:{uuid}", "You earned the badge “Basics badge”. Find it in My badges."),
        (f"{EARNED}:{someone_elses}", "not for this person"),
        ("error", "Something else to know"),
    ]
    with app.test_request_context(headers={"Accept-Language": "en"}):
        sign_in(db.session.get(User, learner))
        moments, rest = badge_moments(flashed)
        html = render_template("badges/_earned.html", moments=moments)
    assert [m.uuid for m in moments] == [uuid]
    assert rest == [("error", "Something else to know")]  # the success notes are in the moment
    assert html.count("<section") == 1 and "You earned the badge “Basics badge”" in html
    assert re.search(r'<img[^>]+src="/ob/badges/basics/image\.png[^"]*"[^>]+alt="[^"]+"', html)
    assert "Completed the basics." in html  # what it means
    assert "You completed the path “Basics”" in html
    assert f'href="/badges/a/{uuid}"' in html and f"/badges/a/{uuid}/badge.png" in html
    assert 'href="/badges/backpack"' in html  # "My badges" is a link
    assert 'href="/paths/advanced"' in html  # the path that builds on this one


def test_without_a_badge_the_messages_stay_as_they_are(app: Flask, make_user) -> None:
    make_user()
    flashed = [("success", "Module completed."), (f"{EARNED}:nope", "x")]
    with app.test_request_context():
        assert badge_moments(flashed) == ([], [("success", "Module completed.")])


def test_finishing_a_path_shows_the_badge_moment_instead_of_four_banners(
    client: FlaskClient, auth, make_user
) -> None:
    make_user()
    auth.login()
    client.post("/paths/basics/enrol")
    client.post("/paths/basics/welcome/done")
    client.post(
        "/paths/basics/check-quiz/quiz", data={"q-q1": "b", "q-q2": ["a", "c"], "q-q3": "a"}
    )
    text = "Small experiments with my own group taught me the most."
    done = client.post(
        "/paths/basics/my-thoughts/reflection", data={"text": text}, follow_redirects=True
    )
    page = done.get_data(as_text=True)
    assert page.count('class="bm-earned"') == 1 and "You earned the badge “Basics badge”" in page
    assert "Module completed." not in page and 'class="flash flash-success"' not in page
    assert 'href="/badges/backpack"' in page and 'href="/paths/advanced"' in page


# --- 11: the verify page ---------------------------------------------------------------------


def test_verify_says_plain_text_is_not_a_badge_address(client: FlaskClient) -> None:
    response = client.post("/badges/verify", data={"text": "hello, is this my badge?"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This is not a badge address" in page
    assert "The address belongs to this campus" not in page
    assert "The badge is not valid" not in page
    campus_page = client.post("/badges/verify", data={"text": f"{BASE_URL}/paths/basics"})
    assert "This is not a badge address" in campus_page.get_data(as_text=True)
    foreign = client.post("/badges/verify", data={"text": "https://evil.example/badges/a/x"})
    assert "The badge is not valid" in foreign.get_data(as_text=True)


def test_verify_shows_the_badge_first_then_the_checks(
    app: Flask, client: FlaskClient, make_user
) -> None:
    uuid = give(app, make_user(name="Learner Person"))
    response = client.post("/badges/verify", data={"text": f"{BASE_URL}/badges/a/{uuid}"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    verdict, badge, checks = (
        page.index("The badge is valid"),
        page.index("Basics badge"),
        page.index("The signature is valid"),
    )
    assert verdict < badge < checks
    assert 'src="/ob/badges/basics/image.png' in page and "Learner Person" in page
    assert "Issuer" in page and "Awarded on" in page and "No expiry date" in page
    assert "Stored only as a hash" in page  # the e-mail can be checked by typing it
    typed = client.post(
        "/badges/verify",
        data={"text": f"{BASE_URL}/badges/a/{uuid}", "email": "learner@example.org"},
    ).get_data(as_text=True)
    assert "learner@example.org: matches" in typed


def test_verify_file_field_is_a_labelled_button_with_the_file_name(client: FlaskClient) -> None:
    page = client.get("/badges/verify").get_data(as_text=True)
    field_id = re.search(r'<input[^>]+type="file"[^>]*>', page)[0]
    assert 'id="image"' in field_id and "bm-file-input" in field_id
    assert '<label for="image" class="button bm-file-button">' in page
    assert 'class="bm-file-name" id="image-name" aria-live="polite"' in page
    assert "js/badgemoment-file.js" in page


# --- 14: revoking asks first; bulk results count properly -----------------------------------


def test_revoking_asks_for_confirmation(app: Flask, client: FlaskClient, make_user) -> None:
    make_user("root@campus.fi", {Role.ADMIN})
    uuid = give(app, make_user())
    login(client, "root@campus.fi")
    admin_page = client.get("/badges/admin/basics").get_data(as_text=True)
    assert f'href="/badges/admin/assertions/{uuid}/revoke"' in admin_page
    assert client.get(f"/badges/admin/assertions/{uuid}/revoke").status_code == 200
    asked = client.post(f"/badges/admin/assertions/{uuid}/revoke", data={"reason": "Mistake"})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Revoke this badge?" in page
    assert 'name="confirmed" value="1"' in page and 'value="Mistake"' in page
    with app.app_context():
        assert db.session.execute(db.select(Assertion)).scalar_one().revoked_at is None
    done = client.post(
        f"/badges/admin/assertions/{uuid}/revoke", data={"reason": "Mistake", "confirmed": "1"}
    )
    assert done.status_code == 302
    with app.app_context():
        assert db.session.execute(db.select(Assertion)).scalar_one().revocation_reason == "Mistake"
    again = client.get(f"/badges/admin/assertions/{uuid}/revoke")
    assert again.status_code == 302


def test_bulk_revoke_lists_the_badges_before_revoking(
    app: Flask, client: FlaskClient, make_user
) -> None:
    make_user("root@campus.fi", {Role.ADMIN})
    uuid = give(app, make_user(name="Learner Person"))
    login(client, "root@campus.fi")
    asked = client.post("/badges/admin/revoke", data={"uuids": uuid, "reason": "Wrong list"})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Revoke 1 badge?" in page and "Learner Person" in page
    with app.app_context():
        assert db.session.execute(db.select(Assertion)).scalar_one().revoked_at is None
    done = client.post(
        "/badges/admin/revoke",
        data={"uuids": uuid, "reason": "Wrong list", "confirmed": "1"},
        follow_redirects=True,
    )
    assert "1 badge was revoked." in done.get_data(as_text=True)
    unknown = client.post("/badges/admin/revoke", data={"uuids": "nope", "reason": "x"})
    assert unknown.status_code == 400 and "these ids are unknown: nope" in unknown.get_data(
        as_text=True
    )


def test_bulk_award_counts_in_proper_grammar(app: Flask, client: FlaskClient, make_user) -> None:
    make_user("root@campus.fi", {Role.ADMIN})
    make_user("new@example.org")
    login(client, "root@campus.fi")
    csv_text = "new@example.org,Led workshops\nnobody@example.org,y\nnot-an-email,z\n"
    preview = client.post(
        "/badges/admin/reviewed/bulk-award",
        data={"csv_file": (io.BytesIO(csv_text.encode()), "a.csv"), "preview": "1"},
        content_type="multipart/form-data",
    )
    page = preview.get_data(as_text=True)
    # Issue 12: people without an account get a claim mail (tests/test_badge_claims.py).
    assert "<strong>1</strong> person has no account: they get a message" in page
    assert "<strong>1</strong> invalid or repeated row (skipped)" in page
    assert "<strong>0</strong> people already hold the badge" in page
    assert "have no account" not in page
    done = client.post(
        "/badges/admin/reviewed/bulk-award",
        data={"csv_text": csv_text, "confirm": "1"},
        follow_redirects=True,
    )
    assert "1 badge was awarded." in done.get_data(as_text=True)

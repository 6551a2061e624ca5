"""Template pages: import (problems listed with 422), download, copy (the posted year is
checked, a refused copy re-renders with 422), and who may publish, copy and delete."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campus.clock import utcnow
from campus.extensions import db
from campus.network import toolkits
from campus.network.models import Roadmap
from campus.network.years import LATEST_YEAR
from tests.conftest import AuthActions
from tests.test_network_toolkit_format import SAMPLE
from tests.test_network_toolkits import World
from tests.test_network_toolkits import _counts
from tests.test_network_toolkits import _publish
from tests.test_network_toolkits import world  # noqa: F401  (the fixture)


def _login(auth: AuthActions, email: str) -> None:
    assert auth.login(email).status_code == 302


def test_import_page_lists_problems_with_422(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: World,  # noqa: F811
) -> None:
    _login(auth, "north-admin@example.org")
    bad = SAMPLE.replace('area = "infrastructure"', 'area = "skills"').replace("= 13", "")
    bad = bad.replace("start_month = 12", "start_month = 13")
    with app.app_context():
        before = _counts()
    response = client.post(
        "/network/templates/import",
        data={"file": (io.BytesIO(bad.encode()), "toolkit.toml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "roadmap.goals[2].area: &#34;skills&#34; is not one of competence" in html
    assert "clock.actions[2].start_month: 13 is not a month" in html
    assert "Nothing was saved" in html
    with app.app_context():
        assert _counts() == before
    response = client.post(
        "/network/templates/import",
        data={"file": (io.BytesIO(b"x"), "toolkit.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "Choose a .toml file." in response.get_data(True)


def test_import_download_and_copy_through_the_pages(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: World,  # noqa: F811
) -> None:
    _login(auth, "south-admin@example.org")
    response = client.post(
        "/network/templates/import",
        data={"file": (io.BytesIO(SAMPLE.encode()), "toolkit.toml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get("/network/templates/digital-development-toolkit-en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Device onboarding" in html and "What do we want to change first?" in html
    assert "no-such-path" in html  # the import warned about it
    download = client.get("/network/templates/digital-development-toolkit-en.toml")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    document = toolkits.read_toolkit(download.get_data(as_text=True))
    with app.app_context():
        assert document == toolkits.read_toolkit(SAMPLE)
    response = client.post(
        "/network/templates/digital-development-toolkit-en/copy",
        data={"target": f"organisation:{world.south}", "first_year": "2027"},
    )
    assert response.status_code == 302
    with app.app_context():
        roadmap = db.session.execute(
            db.select(Roadmap).where(Roadmap.organisation_id == world.south)
        ).scalar_one()
        assert roadmap.first_year == 2027 and len(roadmap.goals) == 2
    assert response.headers["Location"].endswith(f"/network/roadmaps/{roadmap.id}")
    # The report is flashed: the next page shown (here the template again) lists it.
    followed = client.get("/network/templates/digital-development-toolkit-en").get_data(True)
    assert "Copied into South: a roadmap with 2 goals, 2 annual-clock actions" in followed
    assert "New empty groups (add their members): Digi group, Tutor-teacher network" in followed
    assert "Left out, as there is no such group here" in followed


def test_who_may_publish_copy_and_delete(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: World,  # noqa: F811
) -> None:
    with app.app_context():
        _publish(world)
        db.session.commit()
    assert client.get("/network/templates/").status_code == 302  # log in first
    _login(auth, "south-admin@example.org")
    assert client.get(f"/network/organisation/{world.north}/publish").status_code == 403
    empty = client.get(f"/network/organisation/{world.south}/publish")
    assert empty.status_code == 200 and "There is no roadmap to publish yet." in empty.get_data(
        True
    )
    copy_into_north = {"target": f"organisation:{world.north}", "first_year": "2027"}
    assert (
        client.post("/network/templates/north-toolkit/copy", data=copy_into_north).status_code
        == 403
    )
    assert client.post("/network/templates/north-toolkit/delete").status_code == 403
    auth.logout()
    _login(auth, "north-learner@example.org")
    assert client.get(f"/network/organisation/{world.north}/publish").status_code == 403
    assert client.get("/network/templates/north-toolkit").status_code == 200  # anyone reads
    assert client.post("/network/templates/import").status_code == 403
    auth.logout()
    _login(auth, "north-admin@example.org")
    page = client.get(f"/network/organisation/{world.north}/publish")
    assert page.status_code == 200 and "North roadmap (2025–2028)" in page.get_data(True)
    publish = {
        "roadmap": str(world.roadmap),
        "title": "Again",
        "slug": "north-toolkit",
        "summary": "",
        "language": "en",
    }
    taken = client.post(f"/network/organisation/{world.north}/publish", data=publish)
    assert taken.status_code == 422 and "is already the address" in taken.get_data(True)
    publish["slug"] = "north-again"
    assert (
        client.post(f"/network/organisation/{world.north}/publish", data=publish).status_code == 302
    )
    assert client.post("/network/templates/north-toolkit/delete").status_code == 302
    with app.app_context():
        assert [t.slug for t in toolkits.toolkits()] == ["north-again"]


def _roadmaps_of_south(built: World) -> list[Roadmap]:
    query = db.select(Roadmap).where(Roadmap.organisation_id == built.south)
    return list(db.session.execute(query).scalars())


def test_the_copy_form_suggests_this_year_and_checks_the_posted_one(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: World,  # noqa: F811
) -> None:
    with app.app_context():
        toolkits.import_file(SAMPLE, None, utcnow())  # a 4-year roadmap
        db.session.commit()
    _login(auth, "south-admin@example.org")
    url = "/network/templates/digital-development-toolkit-en"
    page = client.get(url).get_data(as_text=True)
    suggested = re.search(r'<input[^>]*name="first_year"[^>]*value="(\d+)"', page)
    assert suggested is not None and suggested.group(1) == str(utcnow().year)
    assert "A four-year roadmap, the annual clock" in page  # the file's summary
    target = f"organisation:{world.south}"
    for year, message in [
        ("", "Give the first year."),
        (str(LATEST_YEAR - 2), f"The first year must be between 2000 and {LATEST_YEAR - 3}."),
        ("twenty", "Not a valid integer value."),
    ]:
        response = client.post(f"{url}/copy", data={"target": target, "first_year": year})
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and message in html
        assert 'aria-invalid="true"' in html and "Device onboarding" in html
        with app.app_context():
            assert _roadmaps_of_south(world) == []
    response = client.post(
        f"{url}/copy", data={"target": target, "first_year": str(LATEST_YEAR - 3)}
    )
    assert response.status_code == 302
    with app.app_context():
        (roadmap,) = _roadmaps_of_south(world)
        assert (roadmap.first_year, roadmap.last_year) == (LATEST_YEAR - 3, LATEST_YEAR)


def test_a_refused_copy_lists_the_problems_with_422(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: World,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object) -> None:
        raise toolkits.ToolkitError(["Something in the template is not right."])

    with app.app_context():
        _publish(world)
        db.session.commit()
    monkeypatch.setattr(toolkits, "apply", refuse)
    _login(auth, "south-admin@example.org")
    response = client.post(
        "/network/templates/north-toolkit/copy",
        data={"target": f"organisation:{world.south}", "first_year": "2027"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was copied" in html and "Something in the template is not right." in html


def test_the_template_page_has_unique_ids(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: World,  # noqa: F811
) -> None:
    with app.app_context():
        _publish(world)
        db.session.commit()
    _login(auth, "north-admin@example.org")  # the publisher: copy and delete forms
    html = client.get("/network/templates/north-toolkit").get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert 'id="delete-submit"' in html and 'id="first_year"' in html  # both forms are there
    assert "Delete the template" in html

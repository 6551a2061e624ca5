"""Grade passback runs through the outbox after the completion commits, within a time budget:
an LMS that accepts connections and never answers cannot hold the learner's page."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from campus.extensions import db
from campus.lti.models import LtiGradeTarget
from campus.lti.models import LtiPlatform
from campus.outbox.models import OutboxItem
from campus.outbox.models import OutboxStatus
from campus.paths.models import Completion
from tests.lti import test_tool as tool_tests

World = tool_tests.World
world = tool_tests.world  # the same live campus + independent LMS pair
launch = tool_tests.launch


@pytest.fixture
def hanging_lms() -> Iterator[str]:
    """A server on 127.0.0.1 that accepts every connection and never sends a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in held:
            connection.close()
        listener.close()


@pytest.mark.parametrize("hangs", ["token", "score"])
def test_a_hanging_lms_does_not_hold_the_completion(
    world: World, hanging_lms: str, hangs: str
) -> None:
    browser = requests.Session()
    launch(world, browser)
    with world.app.app_context():
        if hangs == "token":  # the access token request never gets an answer
            platform = db.session.execute(db.select(LtiPlatform)).scalar_one()
            platform.auth_token_url = f"{hanging_lms}/token"
        else:  # the token comes at once; the score POST never gets an answer
            target = db.session.execute(db.select(LtiGradeTarget)).scalar_one()
            target.ags = {**target.ags, "lineitem": f"{hanging_lms}/lineitems/1"}
        db.session.commit()
    page = browser.get(f"{world.campus}/paths/basics/welcome").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    started = time.monotonic()
    done = browser.post(f"{world.campus}/paths/basics/welcome/done", data={"csrf_token": token})
    elapsed = time.monotonic() - started
    assert done.status_code == 200 and elapsed < 3.0, elapsed
    assert world.lms_app.scores == []
    with world.app.app_context():
        assert db.session.execute(db.select(Completion)).scalar_one() is not None
        item = db.session.execute(db.select(OutboxItem)).scalar_one()
        assert item.kind == "lti.grade" and item.status == OutboxStatus.PENDING
        error = (item.last_error or "").lower()
        assert item.attempts == 1 and ("timed out" in error or "no complete answer" in error)

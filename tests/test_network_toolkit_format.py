"""The template file: every validation rule with its message, and the file round trip."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import tomli_w

from campus.network.toolkit_format import ToolkitError
from campus.network.toolkit_format import read_toolkit
from campus.network.toolkit_format import to_toml

SAMPLE = """\
format = "campus-network-template/1"
slug = "digital-development-toolkit-en"
title = "Digital development of the region"
summary = "A four-year roadmap, the annual clock and the digi group kick-off kit."
language = "en"

[roadmap]
title = "Digital development roadmap"
years = 4

[[roadmap.goals]]
key = "staff-competence"
area = "competence"
focus = "learning"
title = "Every teacher uses digital tools with confidence"
starting_point = "About half of the staff rate their skills as basic."
target_state = "Three in four staff reach the intermediate level."
indicators = "Share of staff at B1 or above in the autumn assessment."
instrument = "staff-digital-competence"
assessment_area = "teaching"
group = "digi_group"
paths = ["basics", "no-such-path"]
badges = ["basics", "no-such-badge"]

[[roadmap.goals]]
key = "devices"
area = "infrastructure"
focus = "trust"
title = "Devices that work on the first day"

[[clock.actions]]
title = "Device onboarding"
description = "New staff and students get their devices and accounts."
start_month = 8
start_day = 10
end_month = 9
end_day = 15
group = "digi_group"
goal = "devices"
paths = ["basics"]
[clock.actions.raci]
digi_group = "A"
"tutor_network.chair" = "R"
steering = "I"
regional_ict = "C"

[[clock.actions]]
title = "Winter review"
start_month = 12
end_month = 1

[kit]
title = "Starting a digi group"
questions = ["What do we want to change first?", "Who speaks for the schools?"]
tasks = ["Plan the year", "Run the assessment"]
parties = ["Chair", "Secretary", "Members"]
"""


def sample() -> dict[str, Any]:
    import tomllib

    return tomllib.loads(SAMPLE)


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ToolkitError) as caught:
        read_toolkit(tomli_w.dumps(data))
    return caught.value.problems


def test_a_good_file_reads_into_a_normalised_document(app_ctx: None) -> None:
    document = read_toolkit(SAMPLE)
    assert document["slug"] == "digital-development-toolkit-en"
    assert document["roadmap"]["years"] == 4
    devices = document["roadmap"]["goals"][1]
    assert devices["starting_point"] == "" and devices["paths"] == [] and "group" not in devices
    winter = document["clock"]["actions"][1]
    assert winter == {
        "title": "Winter review",
        "description": "",
        "start_month": 12,
        "end_month": 1,
        "paths": [],
        "raci": {},
    }
    assert document["clock"]["actions"][0]["raci"]["tutor_network.chair"] == "R"
    assert document["kit"]["parties"] == ["Chair", "Secretary", "Members"]


def test_round_trip_file_document_file(app_ctx: None) -> None:
    document = read_toolkit(SAMPLE)
    text = to_toml(document)
    assert read_toolkit(text) == document
    assert to_toml(read_toolkit(text)) == text
    # Laid out as people read it: tables, not inline arrays.
    assert "[[roadmap.goals]]" in text and "[clock.actions.raci]" in text and "[kit]" in text


def test_round_trip_without_optional_parts(app_ctx: None) -> None:
    data = sample()
    del data["kit"], data["clock"], data["summary"]
    document = read_toolkit(tomli_w.dumps(data))
    assert document["clock"] == {"actions": []} and "kit" not in document
    assert read_toolkit(to_toml(document)) == document


def _set(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ("format",),
            "campus-network-template/2",
            'format: "campus-network-template/2" is not a template format this campus reads',
        ),
        (
            ("slug",),
            "Digital Toolkit",
            'slug: "Digital Toolkit" may contain only lowercase letters a–z, digits and hyphens',
        ),
        (("language",), "de", 'language: "de" is not one of fi, sv, en'),
        (
            ("roadmap", "goals", 1, "area"),
            "skills",
            'roadmap.goals[2].area: "skills" is not one of competence, infrastructure, services,'
            " content",
        ),
        (
            ("roadmap", "goals", 0, "focus"),
            "fun",
            'roadmap.goals[1].focus: "fun" is not one of leadership, community, learning, trust',
        ),
        (("roadmap", "goals", 1, "key"), "staff-competence", "already the key of goal 1"),
        (("roadmap", "goals", 0, "key"), "Staff Competence", "roadmap.goals[1].key:"),
        (("roadmap", "goals", 0, "group"), "board", 'roadmap.goals[1].group: "board" is not one'),
        (("roadmap", "years"), 0, "roadmap.years: 0 is not between 1 and 10"),
        (("roadmap", "title"), "", "roadmap.title: is required"),
        (("clock", "actions", 0, "start_month"), 13, "clock.actions[1].start_month: 13 is not"),
        (("clock", "actions", 0, "end_month"), "May", "clock.actions[1].end_month: should be a"),
        (
            ("clock", "actions", 1, "start_day"),
            32,
            "clock.actions[2].start_day: month 12 has no day 32",
        ),
        (
            ("clock", "actions", 0, "goal"),
            "nowhere",
            'clock.actions[1].goal: no goal has the key "nowhere"',
        ),
        (
            ("clock", "actions", 0, "raci", "digi_group"),
            "X",
            'clock.actions[1].raci.digi_group: "X" is not one of R, A, C, I',
        ),
        (
            ("clock", "actions", 0, "raci", "steering"),
            "A",
            'clock.actions[1].raci: exactly one party is accountable ("A"); found 2',
        ),
        (
            ("clock", "actions", 0, "raci", "digi_group"),
            "R",
            'clock.actions[1].raci: exactly one party is accountable ("A"); found 0',
        ),
        (
            ("clock", "actions", 0, "raci", "board"),
            "C",
            'clock.actions[1].raci.board: "board" is not a group kind',
        ),
        (
            ("clock", "actions", 0, "raci", "digi_group.lead"),
            "C",
            'clock.actions[1].raci."digi_group.lead": "lead" is not a role in a digi_group group',
        ),
        (("kit", "questions"), "one question", "kit.questions: should be a list of texts"),
        (("clock", "actions", 0, "colour"), "red", "clock.actions[1].colour: unknown field"),
        (("roadmap", "goals", 0, "paths"), ["Not A Slug"], "roadmap.goals[1].paths[1]:"),
        (("roadmap", "goals", 0, "instrument"), "", "roadmap.goals[1].instrument: give both"),
    ],
)
def test_each_rule_names_its_field(
    app_ctx: None, path: tuple[Any, ...], value: Any, message: str
) -> None:
    problems = problems_of(_set(sample(), path, value))
    assert any(message in problem for problem in problems), problems


def test_february_29th_is_not_a_yearly_date(app_ctx: None) -> None:
    data = _set(sample(), ("clock", "actions", 0, "start_month"), 2)
    data = _set(data, ("clock", "actions", 0, "start_day"), 29)
    assert "clock.actions[1].start_day: month 2 has no day 29 (a yearly date: 1–28)" in (
        problems_of(data)
    )


def test_text_and_count_limits(app_ctx: None) -> None:
    data = _set(sample(), ("roadmap", "goals", 0, "target_state"), "x" * 5001)
    assert "roadmap.goals[1].target_state: 5001 characters; at most 5000" in problems_of(data)
    data = _set(sample(), ("roadmap", "goals", 0, "title"), "x" * 201)
    assert "roadmap.goals[1].title: 201 characters; at most 200" in problems_of(data)
    goal = {"area": "content", "focus": "trust", "title": "A goal"}
    goals = [dict(goal, key=f"goal-{n}") for n in range(101)]
    data = _set(sample(), ("roadmap", "goals"), goals)
    data["clock"]["actions"][0].pop("goal")
    assert "roadmap.goals: 101 entries; at most 100" in problems_of(data)
    action = {"title": "An action", "start_month": 1}
    data = _set(sample(), ("clock", "actions"), [action] * 201)
    assert "clock.actions: 201 entries; at most 200" in problems_of(data)


def test_file_size_and_syntax(app_ctx: None) -> None:
    with pytest.raises(ToolkitError) as caught:
        read_toolkit("# " + "x" * 256 * 1024)
    assert caught.value.problems == ["The file is 257 KB; a template can be at most 256 KB."]
    with pytest.raises(ToolkitError) as caught:
        read_toolkit('format = "campus-network-template/1"\ntitle = ')
    assert caught.value.problems[0].startswith("The file is not valid TOML:")


def test_all_problems_are_collected_at_once(app_ctx: None) -> None:
    data = _set(sample(), ("language",), "de")
    data = _set(data, ("roadmap", "goals", 1, "area"), "skills")
    data = _set(data, ("clock", "actions", 0, "start_month"), 0)
    del data["title"]
    problems = problems_of(data)
    assert len(problems) == 4, problems
    assert problems[0] == "title: is required"


def test_missing_roadmap_and_start_month(app_ctx: None) -> None:
    data = sample()
    del data["roadmap"]
    del data["clock"]["actions"][1]["start_month"]
    data["clock"]["actions"][0].pop("goal")
    problems = problems_of(data)
    assert "roadmap: is required" in problems
    assert "clock.actions[2].start_month: is required" in problems

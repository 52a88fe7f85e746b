"""The planning page's requests read in this process (no server): every bad field named, the host
check's names. tests/serve/test_serve.py asks the same of a real server over HTTP (marked slow)."""
from __future__ import annotations

import pytest

from sim.config import limits
from sim.errors import InputError
from sim.serve.guard import allowed_hosts, is_loopback
from sim.serve.requests import parse_evaluation, parse_json, problem_fields

PLAN = {"name": "x", "units": []}


def fields_of(data) -> list[str]:
    with pytest.raises(InputError) as refused:
        parse_evaluation(data)
    return [problem["field"] for problem in problem_fields(refused.value.problems)]


@pytest.mark.parametrize("body, field", [
    ({"reps": 3}, "plan"),
    ({"plan": PLAN, "reps": 0}, "reps"),
    ({"plan": PLAN, "reps": limits.MAX_SERVE_REPS + 1}, "reps"),
    ({"plan": PLAN, "reps": "ten"}, "reps"),
    ({"plan": PLAN, "reps": True}, "reps"),
    ({"plan": PLAN, "hours": -1}, "hours"),
    ({"plan": PLAN, "hours": float("nan")}, "hours"),
    ({"plan": PLAN, "seed": -5}, "seed"),
    ({"plan": PLAN, "extra": 1}, "extra"),
    ({"plan": PLAN, "against": [{"label": "a", "plan": 3}]}, "against[0].plan"),
    ({"plan": PLAN, "against": [{"label": "<b>", "plan": PLAN}]}, "against[0].label"),
    ({"plan": PLAN, "sites": [{"id": "s"}] * (limits.MAX_SERVE_NEW_SITES + 1)}, "sites"),
])
def test_a_bad_request_names_its_field(body, field):
    assert field in fields_of(body)


def test_every_problem_of_a_request_is_named_at_once():
    assert set(fields_of({"plan": PLAN, "reps": 0, "seed": -1, "hours": 0, "extra": 1})) == {
        "reps", "seed", "hours", "extra"}


def test_a_good_request_keeps_its_numbers_and_leaves_the_others_to_the_scenario():
    evaluation = parse_evaluation({"plan": PLAN, "reps": 3, "hours": 12})
    assert (evaluation.reps, evaluation.hours, evaluation.seed) == (3, 12.0, None)
    assert evaluation.variant.plan == PLAN and evaluation.variant.sites == ()
    assert evaluation.digest == parse_evaluation({"hours": 12.0, "reps": 3, "plan": PLAN}).digest, "same content, same id"


@pytest.mark.parametrize("body, words", [
    (b"{not json", "body: not JSON"),
    (b"\xff\xfe", "body: not UTF-8 text"),
])
def test_a_body_that_is_not_json_is_one_problem_naming_the_body(body, words):
    with pytest.raises(InputError, match=words):
        parse_json(body)


def test_a_loopback_server_answers_to_its_loopback_names_only():
    assert is_loopback("127.0.0.1") and not is_loopback("127.0.0.2")
    assert allowed_hosts("127.0.0.1") == {"127.0.0.1", "::1", "localhost"}
    assert allowed_hosts("10.1.2.3") == {"10.1.2.3"}
    assert allowed_hosts("0.0.0.0") is None, "bound to every address: any name"

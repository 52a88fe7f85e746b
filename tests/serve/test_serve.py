"""The planning page's server (``run_sim.py serve``), tested as a user's browser talks to it: a real
server on loopback, real HTTP. Numbers are checked against ``Study`` run in this process."""
from __future__ import annotations

import copy
import json
import math
import signal
import threading
import time

import pytest
import yaml

from sim import Study
from sim.config import limits, load_scenario
from tests.serving import ROOT, alive, running_server

pytestmark = pytest.mark.slow  # a real server process with its worker processes

SCENARIO = "scenarios/jember_pilkada_2024.yaml"
HOURS = 12.0   # short clocks and few replications: the figures are exact whatever their size
REPS = 3
SEED = 11


@pytest.fixture(scope="module")
def study() -> Study:
    return Study(SCENARIO)


@pytest.fixture(scope="module")
def server():
    with running_server("--workers", "2") as running:
        yield running


def _same_rows(got: list[dict], want) -> None:
    """JSON rows equal to a DataFrame's rows: the same columns, the same numbers (NaN as null)."""
    expected = want.to_dict("records")
    assert len(got) == len(expected)
    for row, ref in zip(got, expected):
        assert list(row) == list(ref), f"columns differ: {list(row)} != {list(ref)}"
        for key, value in ref.items():
            if isinstance(value, float) and math.isnan(value):
                assert row[key] is None, f"{key}: {row[key]!r}, expected NaN (null)"
            else:
                assert row[key] == value, f"{key}: {row[key]!r} != {value!r}"


def _plan(study: Study, name: str = "fixed-posts", at: str = "unej", new_name: str = "page-plan") -> dict:
    plan = study.plan_data(name)
    plan["name"] = new_name
    plan["units"][0]["patrol"] = {"mode": "post", "at": at}
    return plan


def _node_site(study: Study, node: int, site_id: str) -> dict:
    network = study.network()
    return {"id": site_id, "name": f"Post at node {node}", "kind": "proposed_post",
            "lat": float(network.lat[node]), "lon": float(network.lon[node])}


def test_evaluate_gives_the_numbers_of_study_run(server, study):
    plan = _plan(study)
    status, answer = server.post("/api/evaluate", {"plan": plan, "reps": REPS, "seed": SEED, "hours": HOURS})
    assert status == 200, answer
    want = study.with_plan(plan).run(plans=[plan["name"]], reps=REPS, seed=SEED, hours=HOURS)
    _same_rows(answer["summary"], want.summary)
    _same_rows(answer["sites"], want.sites)
    _same_rows(answer["priorities"], want.priorities)
    assert answer["reps"] == REPS and answer["seed"] == SEED and answer["hours"] == HOURS
    assert len(answer["coverage"]["band"]) == study.network().n_nodes


def test_a_post_on_a_new_road_node_is_a_new_site_of_the_scenario(server, study):
    site = _node_site(study, 4321, "post-test-1")
    plan = _plan(study, at=site["id"])
    status, answer = server.post("/api/evaluate", {"plan": plan, "sites": [site], "reps": REPS, "seed": SEED,
                                                   "hours": HOURS})
    assert status == 200, answer
    data = copy.deepcopy(study.scenario.raw)
    data["sites"].append(site)
    want = Study(data).with_plan(plan).run(plans=[plan["name"]], reps=REPS, seed=SEED, hours=HOURS)
    _same_rows(answer["summary"], want.summary)
    _same_rows(answer["sites"], want.sites)


def test_paired_differences_against_other_plans(server, study):
    plan, before = _plan(study, at="unej"), _plan(study, at="kpu_office")
    status, answer = server.post("/api/evaluate", {"plan": plan, "reps": REPS, "seed": SEED, "hours": HOURS,
                                                   "against": [{"label": "before", "plan": before}]})
    assert status == 200, answer
    (pair,) = answer["paired"]
    both = study.with_plan(plan).with_plan({**before, "name": "before"})
    want = both.run(plans=["before", plan["name"]], reps=REPS, seed=SEED, hours=HOURS).comparison
    row = want[want["plan"] == plan["name"]].iloc[0]
    for column in ("response_diff_min", "within_target_diff_pct", "p90_diff_min", "verdict", "paired_reps"):
        assert pair[column] == row[column], column
    assert pair["label"] == "before"


def test_progress_lines_then_the_result(server, study):
    status, headers, body = server.request(
        "POST", "/api/evaluate", json.dumps({"plan": _plan(study, at="alun_alun"), "reps": REPS, "seed": SEED,
                                             "hours": HOURS}).encode(),
        {"Content-Type": "application/json", "Accept": "application/x-ndjson"})
    assert status == 200 and headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in body.decode().splitlines()]
    progress = [line["progress"] for line in lines[:-1]]
    assert progress and progress[-1] == {"done": REPS, "total": REPS}
    assert [p["done"] for p in progress] == sorted(p["done"] for p in progress)
    assert "result" in lines[-1] and lines[-1]["result"]["summary"][0]["reps"] == REPS


def test_a_bad_plan_is_a_400_naming_the_field(server, study):
    plan = _plan(study, at="kpu_ofice")
    plan["units"][1]["count"] = 0
    status, answer = server.post("/api/evaluate", {"plan": plan, "reps": REPS, "hours": HOURS})
    assert status == 400
    fields = {problem["field"]: problem["message"] for problem in answer["problems"]}
    assert "did you mean 'kpu_office'" in fields["plan.units[0].patrol.at"]
    assert "plan.units[1].count" in fields
    site = dict(_node_site(study, 10, "post-x"), lat=123.0)
    status, answer = server.post("/api/evaluate", {"plan": _plan(study, at="post-x"), "sites": [site]})
    assert status == 400 and answer["problems"][0]["field"] == "sites[0].lat"


@pytest.mark.parametrize("body, field", [
    ({"reps": 3}, "plan"),
    ({"plan": {"name": "x", "units": []}, "reps": 0}, "reps"),
    ({"plan": {"name": "x", "units": []}, "reps": limits.MAX_SERVE_REPS + 1}, "reps"),
    ({"plan": {"name": "x", "units": []}, "reps": "ten"}, "reps"),
    ({"plan": {"name": "x", "units": []}, "hours": -1}, "hours"),
    ({"plan": {"name": "x", "units": []}, "seed": -5}, "seed"),
    ({"plan": {"name": "x", "units": []}, "extra": 1}, "extra"),
    ({"plan": {"name": "x", "units": []}, "against": [{"label": "a", "plan": 3}]}, "against[0].plan"),
])
def test_bad_requests_name_their_field(server, body, field):
    status, answer = server.post("/api/evaluate", body)
    assert status == 400, answer
    assert field in [problem["field"] for problem in answer["problems"]], answer


def test_too_much_work_is_refused_before_it_starts(server, study):
    plan = _plan(study)
    status, answer = server.post("/api/evaluate", {"plan": plan, "reps": limits.MAX_SERVE_REPS, "hours": 8000})
    assert status == 400 and answer["problems"][0]["field"] == "reps"


def test_oversize_body_413_and_not_json_415(server):
    big = b'{"plan": "' + b"x" * (limits.MAX_SERVE_BODY_BYTES + 10) + b'"}'
    status, _, body = server.request("POST", "/api/evaluate", big, {"Content-Type": "application/json"})
    assert status == 413 and b"bytes" in body
    status, _, _ = server.request("POST", "/api/evaluate", b"plan=x", {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415
    status, _, body = server.request("POST", "/api/evaluate", b"{not json", {"Content-Type": "application/json"})
    assert status == 400 and json.loads(body)["problems"][0]["field"] == "body"


@pytest.mark.parametrize("path", ["/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py",
                                  "/static/leaflet/../../app.py", "/static//etc/passwd", "/static/%2fetc%2fpasswd"])
def test_static_files_cannot_be_read_outside_their_folder(server, path):
    status, _, body = server.request("GET", path)
    assert status == 404, path
    assert b"import" not in body and b"root:" not in body


def test_the_page_and_its_libraries_are_served_from_the_package(server):
    status, headers, body = server.request("GET", "/")
    assert status == 200 and b"/static/leaflet/leaflet.js" in body
    ours = ("/", "/static/app.css", "/static/app.js", "/static/map.js", "/static/editor.js", "/static/play.js",
            "/static/main.js", "/static/i18n.js", "/static/colours.js", "/static/labels.js")
    for path in ("/static/leaflet/leaflet.js", "/static/leaflet/leaflet.css", "/static/leaflet/LICENSE", *ours):
        status, _, body = server.request("GET", path)
        assert status == 200 and len(body) > 1000, path
        assert b"url(http" not in body and b"@import" not in body, f"{path} loads something online"
        if path in ours:
            assert b"http://" not in body and b"https://" not in body, f"{path} names an address online"
    for name in ("share_scale.json", "share_scale.css"):   # the one share scale, as sim.viz.palette writes it
        status, _, body = server.request("GET", f"/static/{name}")
        assert status == 200 and body == (ROOT / "sim" / "viz" / "web" / name).read_bytes(), \
            f"/static/{name} is not the palette's own file"
    status, _, body = server.request("GET", "/api/nothing")
    assert status == 404 and json.loads(body)["error"]


def test_scenario_answer(server, study):
    status, data = server.get("/api/scenario")
    assert status == 200
    assert [site["id"] for site in data["sites"]] == list(study.scenario.site_ids)
    assert [plan["name"] for plan in data["plans"]] == study.plans
    assert data["outline"]["nodes"] == study.network().n_nodes == len(data["outline"]["x"])
    names = {cell["name"] for cell in data["areas"]["cells"]}
    assert {"Ambulu", "Kaliwates", "Tanggul"} <= names
    assert data["defaults"] == {"reps": study.scenario.replications, "seed": study.scenario.seed,
                                "hours": study.scenario.clock.duration_hours}


def test_messages_in_both_languages(server):
    status, english = server.get("/api/messages?lang=en")
    status_id, indonesian = server.get("/api/messages?lang=id")
    assert status == status_id == 200
    assert set(english["messages"]) == set(indonesian["messages"])
    assert english["messages"]["page.undo"] == "Undo" and indonesian["messages"]["page.undo"] == "Batalkan"
    status, answer = server.get("/api/messages?lang=fr")
    assert status == 400 and answer["problems"][0]["field"] == "lang"


def test_twenty_concurrent_evaluations_of_different_plans(server, study):
    sites = [s for s in study.scenario.site_ids][:10]
    plans = [_plan(study, at=site, new_name=f"c-{k}-{site}") for k, site in enumerate(sites)]
    plans += [_plan(study, name="mixed", at=site, new_name=f"m-{k}-{site}") for k, site in enumerate(sites)]
    answers: dict[str, tuple[int, dict]] = {}

    def ask(plan: dict) -> None:
        answers[plan["name"]] = server.post("/api/evaluate", {"plan": plan, "reps": 2, "seed": SEED, "hours": 6.0},
                                            timeout=300)

    threads = [threading.Thread(target=ask, args=(plan,)) for plan in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(answers) == 20
    for plan in plans:
        status, answer = answers[plan["name"]]
        assert status == 200, answer
        want = study.with_plan(plan).run(plans=[plan["name"]], reps=2, seed=SEED, hours=6.0)
        _same_rows(answer["summary"], want.summary)


def test_saved_yaml_runs_unchanged(server, study, tmp_path):
    site = _node_site(study, 777, "post-yaml-1")
    plan = _plan(study, at=site["id"], new_name="saved-plan")
    status, answer = server.post("/api/evaluate", {"plan": plan, "sites": [site], "reps": 2, "seed": SEED,
                                                   "hours": HOURS})
    assert status == 200
    status, headers, body = server.request("GET", f"/api/plan.yaml?id={answer['id']}")
    assert status == 200 and "attachment" in headers["content-disposition"]
    path = tmp_path / "saved.yaml"
    path.write_bytes(body)
    scenario = load_scenario(path)
    assert "saved-plan" in [p.name for p in scenario.plans] and "post-yaml-1" in scenario.site_ids
    again = Study(path).run(plans=["saved-plan"], reps=2, seed=SEED, hours=HOURS)
    assert again.summary.iloc[0]["within_target_pct"] == answer["summary"][0]["within_target_pct"]
    assert yaml.safe_load(body)["name"] == study.name
    status, answer = server.get("/api/plan.yaml?id=0123456789abcdef")
    assert status == 404


def test_animation_of_an_evaluated_plan(server, study):
    status, answer = server.post("/api/evaluate", {"plan": _plan(study), "reps": 2, "seed": SEED, "hours": HOURS})
    status, frames = server.get(f"/api/animation?id={answer['id']}&hours=4&from=8&frames_per_min=1")
    assert status == 200, frames
    assert frames["frames"] == 240 == len(frames["unit_x"]) == len(frames["clock"])
    assert len(frames["unit_x"][0]) == study.plan("fixed-posts").n_units
    assert frames["incident_types"], "no incident in the morning window of replication 0"
    shown = {state for changes in frames["incident_changes"] for _, state in changes}
    assert {2, 3} <= shown, "an incident should have a unit on the way, then on scene, at some frames"
    assert any(target >= 0 for frame in frames["unit_target"] for target in frame), "no unit drives to an incident"
    status, problem = server.get(f"/api/animation?id={answer['id']}&hours={limits.MAX_SERVE_ANIMATION_HOURS + 1}")
    assert status == 400 and problem["problems"][0]["field"] == "hours"


def test_optimise_from_here_proposes_the_same_fleet(server, study):
    plan = _plan(study)
    status, answer = server.post("/api/optimize", {"plan": plan, "reps": 2, "hours": HOURS}, timeout=300)
    assert status == 200, answer
    proposal = answer["plan"]
    assert sum(group["count"] for group in proposal["units"]) == study.plan("fixed-posts").n_units
    assert all(group["patrol"]["mode"] == "post" for group in proposal["units"])
    status, evaluated = server.post("/api/evaluate", {"plan": proposal, "sites": answer["sites"], "reps": 2,
                                                      "hours": HOURS})
    assert status == 200, evaluated


@pytest.fixture(scope="module")
def guarded():
    """A server on another loopback address: it needs a token; and a short time limit."""
    with running_server("--host", "127.0.0.2", "--workers", "1", "--time-limit", "1") as running:
        yield running


def test_a_server_off_127_0_0_1_needs_its_token(guarded):
    assert guarded.token and len(guarded.token) >= 16
    status, _, body = guarded.request("GET", "/api/scenario")
    assert status == 401 and b"token" in body
    status, _, _ = guarded.request("GET", "/api/scenario", headers={"X-Patrolsim-Token": "wrong" * 5})
    assert status == 403
    status, _, _ = guarded.request("GET", "/static/app.js")
    assert status == 401
    status, headers, _ = guarded.request("GET", f"/?token={guarded.token}")
    assert status == 200 and f"={guarded.token}" in headers["set-cookie"]
    cookie = headers["set-cookie"].split(";")[0]
    assert guarded.request("GET", "/api/scenario", headers={"Cookie": cookie})[0] == 200
    assert guarded.request("GET", "/api/scenario", headers={"Authorization": f"Bearer {guarded.token}"})[0] == 200


def test_a_host_header_of_another_name_is_refused(server):
    status, _, body = server.request("GET", "/api/scenario", headers={"Host": "evil.example:80"})
    assert status == 403 and b"host" in body


def test_an_evaluation_past_the_time_limit_is_503_and_frees_its_worker(guarded, study):
    before = guarded.workers()
    # about 57,000 incidents: within the page's bound on work, and many seconds past the 1 s limit
    status, answer = guarded.post("/api/evaluate", {"plan": _plan(study), "reps": limits.MAX_SERVE_REPS, "hours": 2000.0})
    assert status == 503 and answer["error"] == "time limit", f"expected 503 time limit, got {status}: {answer}"
    for pid in before:   # the worker that ran it was killed ...
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(pid)
    deadline = time.monotonic() + 120   # ... and a new one, started and warmed at once, answers again
    while True:
        status, answer = guarded.post("/api/evaluate", {"plan": _plan(study), "reps": 1, "hours": 6.0})
        if status != 503 or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    assert status == 200, answer
    assert guarded.workers() and set(guarded.workers()).isdisjoint(before)


def test_ctrl_c_leaves_no_worker_behind():
    with running_server("--workers", "2") as running:
        workers = running.workers()
        assert len(workers) == 2, f"expected 2 workers, found {workers}"
        started = running.descendants()
        running.process.send_signal(signal.SIGINT)
        assert running.process.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in workers), "a worker outlived the server"
        assert not any(alive(pid) for pid in started), "a process the server started (the workers' parent) outlived it"


def test_a_killed_server_leaves_no_worker_behind(guarded):
    """kill -9 gives the server no chance to stop its workers: the kernel ends them with it. (The
    module's last use of the guarded server: it ends it.)"""
    started = guarded.descendants()
    assert guarded.workers(), "the server has no worker to leave behind"
    guarded.process.kill()
    guarded.process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in started if alive(pid)]
    assert not left, f"processes of a killed server are still running: {left}"

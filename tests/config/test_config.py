"""Scenario files: a valid file loads; every kind of mistake is reported with its path and line."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from sim.plugins.patrols import Base, Circuit, Post, Random
from sim.cli.common import cli_names
from sim.config import Scenario, choose_plans, load_scenario, network_spec, parse_override, scenario_hash
from sim.config.option_names import API_NAMES, OptionNames
from sim.plugins.dists import Lognormal, Triangular
from sim.errors import InputError

PROFILE = "[" + ", ".join(["0.5"] * 12 + ["1.5"] * 12) + "]"

MINIMAL = f"""\
name: test-scenario
network:
  source: demo
clock:
  start: "2024-10-23T00:00"
  duration_hours: 24
  warmup_hours: 2
replications: 3
seed: 7
target_response_min: 15
sites:
  - {{id: kpu_office, name: Kantor KPU, lat: -8.1655, lon: 113.7125, kind: election_office, approximate: true}}
  - {{id: alun_alun, name: Alun-alun Jember, lat: -8.1700, lon: 113.7022, kind: crowd_point}}
  - {{id: polres, lat: -8.1720, lon: 113.7000, kind: police}}
disturbances:
  - type: provocation
    rate_per_hour: 0.15
    sites: {{kpu_office: 3, alun_alun: 5}}
    on_scene_min: {{dist: lognormal, mean: 40, sd: 20}}
    priority: 2
    escalation: {{after_min: 20, to: crowd_unrest}}
  - type: crowd_unrest
    rate_per_hour: 0.05
    sites: all
    hourly_profile: {PROFILE}
    on_scene_min: {{dist: triangular, low: 30, mode: 60, high: 120}}
    units_required: 2
    priority: 1
unit_types:
  polri_car: {{agency: Polri, speed_factor: 1.0}}
  satpol_pp_car: {{agency: Satpol PP, speed_factor: 0.9}}
plans:
  - name: fixed-posts
    description: a post and a circuit
    units:
      - {{type: polri_car, count: 1, base: polres, patrol: {{mode: post, at: kpu_office}}}}
      - {{type: satpol_pp_car, count: 1, base: polres, patrol: {{mode: circuit, route: [kpu_office, alun_alun], dwell_min: 10}}}}
  - name: roaming
    units:
      - {{type: polri_car, count: 2, base: polres, patrol: {{mode: random, dwell_min: 5}}}}
      - {{type: polri_car, count: 1, base: polres, patrol: {{mode: base}}}}
dispatch:
  queue: fifo
"""


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def edit(text: str, old: str, new: str) -> str:
    """``text`` with the one occurrence of ``old`` replaced (fails loudly if not exactly one)."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line_of(text: str, fragment: str, nth: int | None = None) -> int:
    """1-based number of the one line containing ``fragment`` (or of its ``nth`` occurrence)."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(hits) == 1 or (nth is not None and len(hits) > nth), (fragment, hits)
    return hits[0 if nth is None else nth]


def problems_of(path: Path, overrides: dict | None = None, names: OptionNames = API_NAMES) -> list[str]:
    with pytest.raises(InputError) as info:
        load_scenario(path, overrides, names=names)
    return info.value.problems


# --- a valid file --------------------------------------------------------------------------


def test_minimal_scenario_loads_with_the_right_values(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, MINIMAL))
    assert isinstance(s, Scenario)
    assert s.name == "test-scenario" and s.description == ""
    assert s.network.source == "demo" and s.network.network_type == "drive"
    assert s.clock.start == datetime(2024, 10, 23, 0, 0)
    assert (s.clock.duration_hours, s.clock.warmup_hours) == (24, 2)
    assert (s.replications, s.seed, s.target_response_min, s.max_snap_m) == (3, 7, 15, 500)

    assert [site.id for site in s.sites] == ["kpu_office", "alun_alun", "polres"]
    assert s.sites[0].approximate is True and s.sites[1].approximate is False
    assert s.sites[2].name == "polres"  # no name given: the id stands in
    assert (s.sites[0].lat, s.sites[0].lon, s.sites[0].kind) == (-8.1655, 113.7125, "election_office")

    provocation, unrest = s.disturbances
    assert provocation.site_weights == {"kpu_office": 3.0, "alun_alun": 5.0}
    assert provocation.on_scene_min == Lognormal(40.0, 20.0)
    assert provocation.units_required == 1  # the default
    assert provocation.hourly_profile is None
    assert (provocation.escalation.after_min, provocation.escalation.to) == (20, "crowd_unrest")
    assert unrest.escalation is None
    assert unrest.hourly_profile == tuple([0.5] * 12 + [1.5] * 12)
    assert unrest.on_scene_min == Triangular(30.0, 60.0, 120.0)
    assert (unrest.rate_per_hour, unrest.units_required, unrest.priority) == (0.05, 2, 1)

    assert list(s.unit_types) == ["polri_car", "satpol_pp_car"]
    assert s.unit_types["satpol_pp_car"].agency == "Satpol PP"
    assert s.unit_types["satpol_pp_car"].speed_factor == 0.9

    fixed = s.plan("fixed-posts")
    assert fixed.description == "a post and a circuit" and fixed.n_units == 2
    assert fixed.units[0].patrol == Post(at="kpu_office")
    assert fixed.units[1].patrol == Circuit(route=("kpu_office", "alun_alun"), dwell_min=10)
    assert (fixed.units[1].type, fixed.units[1].count, fixed.units[1].base) == ("satpol_pp_car", 1, "polres")
    roaming = s.plan("roaming")
    assert roaming.n_units == 3
    # random patrol without a site list roams over every site, in file order
    assert roaming.units[0].patrol == Random(dwell_min=5)  # sites: None, every site
    assert roaming.units[0].patrol.sites_visited("polres", s) == ("kpu_office", "alun_alun", "polres")
    assert roaming.units[1].patrol == Base()

    assert (s.dispatch.policy, s.dispatch.queue, s.dispatch.after_service) == ("nearest", "fifo", "resume")
    assert s.raw == yaml.safe_load(MINIMAL)
    assert s.source_path == str(tmp_path / "scenario.yaml")


def test_sites_all_expands_to_every_site_in_file_order(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, MINIMAL))
    assert list(s.disturbances[1].site_weights.items()) == [
        ("kpu_office", 1.0), ("alun_alun", 1.0), ("polres", 1.0)]
    assert s.raw["disturbances"][1]["sites"] == "all"  # raw keeps what the file says


def test_unquoted_date_time_is_read(tmp_path: Path) -> None:
    text = edit(MINIMAL, 'start: "2024-10-23T00:00"', "start: 2024-10-23 06:30:00")
    s = load_scenario(write(tmp_path, text))
    assert s.clock.start == datetime(2024, 10, 23, 6, 30)
    assert s.raw["clock"]["start"] == "2024-10-23 06:30:00"  # as written


def test_random_patrol_over_road_nodes(tmp_path: Path) -> None:
    text = edit(MINIMAL, "{mode: random, dwell_min: 5}", "{mode: random, road_nodes: 40, radius_km: 3}")
    patrol = load_scenario(write(tmp_path, text)).plan("roaming").units[0].patrol
    assert (patrol.road_nodes, patrol.radius_km, patrol.sites, patrol.dwell_min) == (40, 3, None, 0.0)


def test_unknown_plan_name_suggests(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, MINIMAL))
    with pytest.raises(InputError, match="no plan 'roamin' in scenario 'test-scenario'; did you mean 'roaming'"):
        s.plan("roamin")


# --- each kind of mistake: path, line and message --------------------------------------------

CASES = [
    # (id, old text, new text, the line at fault: fragment or (fragment, nth occurrence),
    #  yaml path, message fragment)
    ("typo key", "  warmup_hours: 2", "  warmup_hour: 2", "warmup_hour", "clock.warmup_hour",
     "unknown key 'warmup_hour'; did you mean 'warmup_hours'?"),
    ("typo key in a list item", "dwell_min: 10}", "dwel_min: 10}", "dwel_min",
     "plans[0].units[1].patrol.dwel_min", "unknown key 'dwel_min'; did you mean 'dwell_min'?"),
    ("typo key in a unit type", "speed_factor: 0.9", "speed_factr: 0.9", "speed_factr",
     "unit_types.satpol_pp_car.speed_factr", "unknown key 'speed_factr'; did you mean 'speed_factor'?"),
    ("unknown post site", "at: kpu_office}", "at: kpu_ofice}", "kpu_ofice", "plans[0].units[0].patrol.at",
     "unknown site 'kpu_ofice'; did you mean 'kpu_office'?"),
    ("unknown base", "count: 2, base: polres", "count: 2, base: polress", "polress", "plans[1].units[0].base",
     "unknown site 'polress'; did you mean 'polres'?"),
    ("duplicate site id", "{id: alun_alun,", "{id: kpu_office,", ("id: kpu_office", 1), "sites[1].id",
     "duplicate site id 'kpu_office'"),
    ("duplicate disturbance type", "type: crowd_unrest", "type: provocation", ("type: provocation", 1),
     "disturbances[1].type", "duplicate disturbance type 'provocation'"),
    ("duplicate plan name", "name: roaming", "name: fixed-posts", ("name: fixed-posts", 1), "plans[1].name",
     "duplicate plan name 'fixed-posts'"),
    ("negative rate", "rate_per_hour: 0.15", "rate_per_hour: -0.15", "-0.15", "disturbances[0].rate_per_hour",
     "greater than or equal to 0"),
    ("short profile", f"hourly_profile: {PROFILE}", "hourly_profile: [1, 2, 3]", "hourly_profile",
     "disturbances[1].hourly_profile", "exactly 24 numbers"),
    ("zero profile", f"hourly_profile: {PROFILE}", "hourly_profile: [" + ", ".join(["0"] * 24) + "]",
     "hourly_profile", "disturbances[1].hourly_profile", "zero"),
    ("negative profile value", f"hourly_profile: {PROFILE}",
     "hourly_profile: [1, 1, 1, -1" + ", 1" * 20 + "]", "hourly_profile", "disturbances[1].hourly_profile[3]",
     "greater than or equal to 0"),
    ("unknown dist", "dist: lognormal,", "dist: lognormol,", "lognormol", "disturbances[0].on_scene_min.dist",
     "'fixed', 'exponential', 'lognormal', 'uniform' or 'triangular'"),
    ("missing dist parameter", "mean: 40, sd: 20}", "mean: 40}", "mean: 40}", "disturbances[0].on_scene_min.sd",
     "missing (required)"),
    ("parameter of another dist", "{dist: lognormal, mean: 40, sd: 20}", "{dist: exponential, mean: 40, sd: 20}",
     "exponential", "disturbances[0].on_scene_min.sd", "'sd' is only for dist lognormal, not exponential"),
    ("unknown dist parameter", "mean: 40, sd: 20}", "mean: 40, sd: 20, shape: 2}", "shape",
     "disturbances[0].on_scene_min.shape", "unknown key 'shape'"),
    ("non-positive mean", "mean: 40, sd: 20}", "mean: 0, sd: 20}", "mean: 0", "disturbances[0].on_scene_min.mean",
     "greater than 0, got 0"),
    ("triangular mode outside", "mode: 60, high: 120", "mode: 160, high: 120", "mode: 160",
     "disturbances[1].on_scene_min.mode", "must lie between low (30) and high (120), got 160"),
    ("too many units required", "units_required: 2", "units_required: 3", "units_required: 3",
     "disturbances[1].units_required",
     "disturbance type 'crowd_unrest' needs 3 units but plan 'fixed-posts' has only 2"),
    ("escalation to unknown type", "to: crowd_unrest}", "to: crowd_unrst}", "crowd_unrst",
     "disturbances[0].escalation.to", "unknown disturbance type 'crowd_unrst'; did you mean 'crowd_unrest'?"),
    ("escalation to itself", "to: crowd_unrest}", "to: provocation}", "to: provocation",
     "disturbances[0].escalation.to", "cannot escalate to itself"),
    ("circuit with one stop", "route: [kpu_office, alun_alun]", "route: [kpu_office]", "route:",
     "plans[0].units[1].patrol.route", "at least 2 stops"),
    ("circuit stop unknown", "route: [kpu_office, alun_alun]", "route: [kpu_office, alun_alunn]", "route:",
     "plans[0].units[1].patrol.route[1]", "unknown site 'alun_alunn'; did you mean 'alun_alun'?"),
    ("at on a circuit", "mode: circuit,", "mode: circuit, at: kpu_office,", "mode: circuit",
     "plans[0].units[1].patrol.at", "'at' is only for mode post, not circuit"),
    ("post without at", "{mode: post, at: kpu_office}", "{mode: post}", "mode: post",
     "plans[0].units[0].patrol.at", "missing (required)"),
    ("random with sites and road nodes", "{mode: random, dwell_min: 5}",
     "{mode: random, sites: [polres], road_nodes: 10}", "mode: random", "plans[1].units[0].patrol",
     "either 'sites' or 'road_nodes'"),
    ("unknown unit type", "{type: satpol_pp_car, count: 1", "{type: satpol_car, count: 1", "satpol_car",
     "plans[0].units[1].type", "unknown unit type 'satpol_car'; did you mean 'satpol_pp_car'?"),
    ("dispatch enum", "queue: fifo", "queue: lifo", "queue: lifo", "dispatch.queue",
     "input should be 'priority' or 'fifo', got 'lifo'"),
    ("warmup not shorter", "warmup_hours: 2", "warmup_hours: 24", "warmup_hours", "clock.warmup_hours",
     "must be shorter than duration_hours"),
    ("start not ISO", 'start: "2024-10-23T00:00"', 'start: "23/10/2024"', "start:", "clock.start",
     "not an ISO date-time"),
    ("impossible date", 'start: "2024-10-23T00:00"', "start: 2024-13-01", "start:", "clock.start",
     "not an ISO date-time"),
    ("site not a mapping", "  - {id: polres, lat: -8.1720, lon: 113.7000, kind: police}", "  - polres",
     "- polres", "sites[2]", "expected a mapping of keys, got 'polres'"),
    ("latitude out of range", "lat: -8.1700", "lat: -98.1700", "-98.17", "sites[1].lat",
     "greater than or equal to -90"),
    ("sites neither all nor mapping", "sites: all", "sites: every", "sites: every", "disturbances[1].sites",
     "expected 'all' or a mapping"),
    ("non-positive weight", "{kpu_office: 3, alun_alun: 5}", "{kpu_office: 0, alun_alun: 5}", "kpu_office: 0",
     "disturbances[0].sites.kpu_office", "weight must be a positive number"),
    ("weight for unknown site", "{kpu_office: 3, alun_alun: 5}", "{kpu_ofice: 3, alun_alun: 5}", "kpu_ofice",
     "disturbances[0].sites.kpu_ofice", "unknown site 'kpu_ofice'; did you mean 'kpu_office'?"),
    ("missing required key", "seed: 7\n", "", "name: test-scenario", "seed", "missing (required)"),
    ("wrong type", "replications: 3", "replications: three", "replications", "replications",
     "valid integer"),
    ("osm without place or bbox", "source: demo", "source: osm", "source: osm", "network.source",
     "needs 'place' or 'bbox'"),
    ("bad bbox", "source: demo", "source: demo\n  bbox: [113.8, -8.25, 113.6, -8.1]", "bbox", "network.bbox",
     "west < east"),
    ("duplicate yaml key", "seed: 7\n", "seed: 7\nseed: 8\n", "seed: 8", "seed", "duplicate key 'seed'"),
    ("name that is no folder name", "name: test-scenario", "name: ../elsewhere", "../elsewhere", "name",
     "'../elsewhere' cannot name the results folder"),
]


@pytest.mark.parametrize(("old", "new", "at_line", "path", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_each_mistake_is_reported_with_path_and_line(tmp_path: Path, old, new, at_line, path, message) -> None:
    text = edit(MINIMAL, old, new)
    file = write(tmp_path, text)
    line = line_of(text, *at_line) if isinstance(at_line, tuple) else line_of(text, at_line)
    prefix = f"{file}:{line}: {path}: "
    problems = problems_of(file)
    assert any(p.startswith(prefix) and message in p for p in problems), (prefix, message, problems)


def test_several_mistakes_are_all_reported_in_file_order(tmp_path: Path) -> None:
    text = edit(MINIMAL, "  warmup_hours: 2", "  warmup_hour: 2")
    text = edit(text, "rate_per_hour: 0.15", "rate_per_hour: lots")  # a schema error ...
    text = edit(text, "at: kpu_office}", "at: kpu_ofice}")  # ... does not hide a cross-reference error
    text = edit(text, "queue: fifo", "queue: lifo")
    file = write(tmp_path, text)
    problems = problems_of(file)
    expected = [
        (line_of(text, "warmup_hour"), "clock.warmup_hour"),
        (line_of(text, "lots"), "disturbances[0].rate_per_hour"),
        (line_of(text, "kpu_ofice"), "plans[0].units[0].patrol.at"),
        (line_of(text, "lifo"), "dispatch.queue"),
    ]
    assert [p.split(": ")[0] for p in problems] == [f"{file}:{n}" for n, _ in expected]
    assert [p.split(": ")[1] for p in problems] == [path for _, path in expected]


def test_units_required_is_checked_against_every_plan(tmp_path: Path) -> None:
    file = write(tmp_path, edit(MINIMAL, "units_required: 2", "units_required: 4"))
    problems = problems_of(file)
    assert len(problems) == 2
    assert "plan 'fixed-posts' has only 2" in problems[0] and "plan 'roaming' has only 3" in problems[1]


# --- files that cannot be read as a scenario -----------------------------------------------


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    file = write(tmp_path, "name: x\nseed: 1: 2\n")
    problems = problems_of(file)
    assert len(problems) == 1 and problems[0].startswith(f"{file}:2: YAML syntax error")


def test_missing_file(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: scenario file not found"]


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    file = write(tmp_path, text)
    assert problems_of(file) == [f"{file}: the scenario file is empty"]


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    file = write(tmp_path, "- a\n- b\n")
    assert "must be a mapping" in problems_of(file)[0]


# --- overrides -------------------------------------------------------------------------------


def test_overrides_by_path_and_by_item_name(tmp_path: Path) -> None:
    file = write(tmp_path, MINIMAL)
    s = load_scenario(file, {
        "clock.duration_hours": 48,
        "replications": 5,
        "disturbances.provocation.rate_per_hour": 0.3,
        "plans.roaming.units[0].count": 4,
        "sites.kpu_office.lat": -8.2,
        "disturbances.crowd_unrest.hourly_profile[0]": 2.0,
    })
    assert (s.clock.duration_hours, s.replications) == (48, 5)
    assert s.disturbances[0].rate_per_hour == 0.3
    assert s.plan("roaming").n_units == 5
    assert s.sites[0].lat == -8.2
    assert s.disturbances[1].hourly_profile[0] == 2.0
    assert s.raw["clock"]["duration_hours"] == 48  # raw is the data as run
    assert load_scenario(file).replications == 3  # the file itself is untouched


def test_override_creates_a_missing_section(tmp_path: Path) -> None:
    file = write(tmp_path, edit(MINIMAL, "dispatch:\n  queue: fifo\n", ""))
    s = load_scenario(file, {"dispatch.after_service": "return_to_base"})
    assert (s.dispatch.queue, s.dispatch.after_service) == ("priority", "return_to_base")


#: (how the user names the options, how a value set by path is named, where it was given)
AS_THE_USER_GAVE_IT = [(API_NAMES, "overrides", "in overrides"), (cli_names(), "--set", "on the command line")]


@pytest.mark.parametrize(("key", "message"), [
    ("disturbances.provokation.rate_per_hour",
     "disturbances.provokation.rate_per_hour: no disturbance type 'provokation'; did you mean 'provocation'?"),
    ("plans.roaming.units.polri_car.count", "2 unit groups are called 'polri_car'"),
    ("plans.roaming.units[5].count", "plans[1].units[5]: index out of range (2 items)"),
    ("replications.x", "replications is a value, not a section"),
])
@pytest.mark.parametrize(("names", "option", "_"), AS_THE_USER_GAVE_IT)
def test_bad_override_paths_are_named(tmp_path: Path, key: str, message: str, names, option, _) -> None:
    problems = problems_of(write(tmp_path, MINIMAL), {key: 1}, names=names)
    assert len(problems) == 1 and problems[0].startswith(f"{option} {key}: ") and message in problems[0], problems


@pytest.mark.parametrize(("names", "_", "given"), AS_THE_USER_GAVE_IT)
def test_bad_override_value_is_reported_as_coming_from_the_override(tmp_path: Path, names, _, given) -> None:
    file = write(tmp_path, MINIMAL)
    problems = problems_of(file, {"replications": 0, "clock.duration_hour": 5}, names=names)
    assert sorted(problems) == [
        f"{file}: clock.duration_hour: unknown key 'duration_hour'; did you mean 'duration_hours'? "
        f"(value given {given} for clock.duration_hour)",
        f"{file}: replications: input should be greater than or equal to 1, got 0 (value given {given} for replications)",
    ]


def test_parse_override_reads_the_value_as_yaml() -> None:
    assert parse_override("disturbances.provocation.rate_per_hour=0.3") == (
        "disturbances.provocation.rate_per_hour", 0.3)
    assert parse_override("clock.duration_hours = 24") == ("clock.duration_hours", 24)
    assert parse_override("route=[a, b]") == ("route", ["a", "b"])
    assert parse_override("name=Jember 2024") == ("name", "Jember 2024")
    assert parse_override("network.place=a=b") == ("network.place", "a=b")


@pytest.mark.parametrize("text", ["replications", "=3", "route=[a, b"])
@pytest.mark.parametrize(("name", "named"), [("overrides", ()), ("--set", ("--set",))])  # Python, command line
def test_parse_override_rejects_malformed_text(text: str, name: str, named: tuple[str, ...]) -> None:
    with pytest.raises(InputError) as caught:
        parse_override(text, *named)
    assert caught.value.problems[0].startswith(f"{name} {text.partition('=')[0]}"), caught.value.problems


@pytest.mark.parametrize("text, number", [("1e12", 1e12), ("1.0e300", 1e300), ("-2.5E-3", -0.0025),
                                          ("+1E+3", 1000.0), ("5e-1", 0.5)])
def test_exponent_floats_are_numbers_in_files_and_overrides(tmp_path: Path, text: str, number: float) -> None:
    assert parse_override(f"x={text}") == ("x", number)
    scenario_text = edit(MINIMAL, "seed: 7\n", f"seed: 7\nmax_snap_m: {text}\n")
    file = write(tmp_path, scenario_text)
    line = line_of(scenario_text, "max_snap_m")
    if 0 < number <= 50_000:
        assert load_scenario(file).max_snap_m == number
    elif number > 50_000:  # read as a number, then held to the bound (README: Limits on input)
        assert problems_of(file) == [f"{file}:{line}: max_snap_m: input should be less than or equal to 50000, "
                                     f"got {number!r}"]
    else:  # a number out of range, not "not a valid number" for a string
        assert problems_of(file) == [f"{file}:{line}: max_snap_m: input should be greater than 0, got {number!r}"]


def test_texts_that_only_look_like_numbers_stay_text() -> None:
    for text in ("1e", "e5", "1e5x", "2024-10-23"):
        assert parse_override(f"x={text}") == ("x", text)


@pytest.mark.parametrize("name", ["jember-pilkada-2024", "Run_2.b", "7days"])
def test_a_folder_safe_name_is_accepted(tmp_path: Path, name: str) -> None:
    assert load_scenario(write(tmp_path, edit(MINIMAL, "name: test-scenario", f"name: {name}"))).name == name


@pytest.mark.parametrize("name", ["a/b", ".hidden", "-x", "two words", "x\\\\y"])
def test_a_name_that_cannot_be_a_results_folder_is_refused(tmp_path: Path, name: str) -> None:
    file = write(tmp_path, edit(MINIMAL, "name: test-scenario", f"name: {json.dumps(name)}"))
    (problem,) = problems_of(file)
    assert problem.startswith(f"{file}:1: name: ") and "cannot name the results folder" in problem


def test_plans_run_in_the_order_asked_for_else_in_file_order(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, MINIMAL))
    assert choose_plans(s, None) == ["fixed-posts", "roaming"]
    assert choose_plans(s, ["roaming", "fixed-posts"]) == ["roaming", "fixed-posts"]
    assert choose_plans(s, ["roaming", "roaming"]) == ["roaming"]
    with pytest.raises(InputError, match="^plans: no plan 'roamin' in the scenario; did you mean 'roaming'"):
        choose_plans(s, ["roamin"])
    with pytest.raises(InputError, match="^--plan: no plan 'roamin' in the scenario; did you mean 'roaming'"):
        choose_plans(s, ["roamin"], cli_names().plans)


def test_network_osm_keeps_the_scenarios_place_bbox_and_network_type(tmp_path: Path) -> None:
    text = edit(MINIMAL, "source: demo", 'source: demo\n  place: "Jember"\n  network_type: drive_service')
    s = load_scenario(write(tmp_path, text))
    spec = network_spec(s, "osm")
    assert (spec.source, spec.place, spec.bbox, spec.network_type) == ("osm", "Jember", None, "drive_service")
    assert network_spec(s, None) == s.network
    plain = load_scenario(write(tmp_path, MINIMAL, "plain.yaml"))
    with pytest.raises(InputError, match="^network osm: the scenario's network has no 'place' or 'bbox'"):
        network_spec(plain, "osm")
    with pytest.raises(InputError, match="^--network osm: the scenario's network has no 'place' or 'bbox'"):
        network_spec(plain, "osm", cli_names().network)


def test_parsed_override_string_loads_as_a_number(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, MINIMAL), dict([parse_override("target_response_min=12.5")]))
    assert s.target_response_min == 12.5


# --- network file paths ----------------------------------------------------------------------


def test_relative_network_path_is_resolved_against_the_scenario_folder(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "roads.graphml").write_text("<graphml/>")
    text = edit(MINIMAL, "source: demo", "source: file\n  path: ../data/roads.graphml")
    s = load_scenario(write(tmp_path, text, name="scenarios/s.yaml"))
    assert s.network.source == "file"
    assert s.network.path == str((tmp_path / "data" / "roads.graphml").resolve())


def test_missing_network_file_is_reported(tmp_path: Path) -> None:
    text = edit(MINIMAL, "source: demo", "source: file\n  path: roads.osm.pbf")
    file = write(tmp_path, text)
    problems = problems_of(file)
    assert problems == [f"{file}:4: network.path: file not found: {tmp_path.resolve() / 'roads.osm.pbf'}"]


def test_demo_network_keeps_place_and_bbox_for_a_later_osm_download(tmp_path: Path) -> None:
    text = edit(MINIMAL, "source: demo", 'source: demo\n  place: "Jember"\n  bbox: [113.6, -8.25, 113.8, -8.1]')
    network = load_scenario(write(tmp_path, text)).network
    assert (network.source, network.place, network.bbox) == ("demo", "Jember", (113.6, -8.25, 113.8, -8.1))


# --- sha256 ----------------------------------------------------------------------------------


def test_sha256_is_of_the_canonical_raw_data(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, MINIMAL))
    canonical = json.dumps(s.raw, sort_keys=True, default=str)
    assert s.sha256 == hashlib.sha256(canonical.encode()).hexdigest() == scenario_hash(s.raw)


def test_sha256_is_stable_unless_a_value_changes(tmp_path: Path) -> None:
    base = load_scenario(write(tmp_path, MINIMAL, "a.yaml")).sha256
    commented = "# a comment and other spacing\n" + MINIMAL.replace("seed: 7", "seed:   7  # lucky")
    assert load_scenario(write(tmp_path, commented, "b.yaml")).sha256 == base
    assert load_scenario(write(tmp_path, MINIMAL, "a.yaml"), {"replications": 3}).sha256 == base
    assert load_scenario(write(tmp_path, MINIMAL, "a.yaml"), {"replications": 4}).sha256 != base
    changed = MINIMAL.replace("rate_per_hour: 0.15", "rate_per_hour: 0.16")
    assert load_scenario(write(tmp_path, changed, "c.yaml")).sha256 != base


# --- YAML as read by ruamel.yaml (YAML 1.2) -------------------------------------------------


def test_a_merge_key_may_be_overridden(tmp_path: Path) -> None:
    text = edit(MINIMAL, "  - name: roaming\n    units:\n",
                "  - name: roaming\n    units:\n      - &car {type: polri_car, count: 1, base: polres, patrol: {mode: base}}\n"
                "      - {<<: *car, type: satpol_pp_car}\n")
    plan = load_scenario(write(tmp_path, text)).plan("roaming")
    assert [(g.type, g.count) for g in plan.units[:2]] == [("polri_car", 1), ("satpol_pp_car", 1)]


def test_numbers_are_read_as_yaml_1_2(tmp_path: Path) -> None:
    assert parse_override("x=010") == ("x", 10)      # YAML 1.1 would read octal 8
    assert parse_override("x=yes") == ("x", "yes")   # YAML 1.1 would read true
    s = load_scenario(write(tmp_path, edit(MINIMAL, "seed: 7", "seed: 010")))
    assert s.seed == 10


def test_an_alias_bomb_is_refused_without_expanding_it(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    file = write(tmp_path, bomb)
    (problem,) = problems_of(file)
    assert problem.startswith(f"{file}: more than 1,000,000 values once aliases are expanded")


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    file = write(tmp_path, "a: " + "[" * 100 + "]" * 100 + "\n")
    (problem,) = problems_of(file)
    assert problem.startswith(f"{file}:1: nested more than 64 levels deep")


def test_every_duplicate_key_is_named_with_its_path_and_both_lines(tmp_path: Path) -> None:
    text = edit(MINIMAL, "  duration_hours: 24\n", "  duration_hours: 24\n  duration_hours: 48\n")
    text = edit(text, "seed: 7\n", "seed: 7\nseed: 8\n")
    file = write(tmp_path, text)
    first, second = line_of(text, "duration_hours: 24"), line_of(text, "seed: 7")
    assert problems_of(file) == [
        f"{file}:{first + 1}: clock.duration_hours: duplicate key 'duration_hours' (also on line {first})",
        f"{file}:{second + 1}: seed: duplicate key 'seed' (also on line {second})",
    ]


# --- a scenario given as data (Study(dict), plans built in code) ---------------------------


def test_a_scenario_given_as_data_loads_like_the_file(tmp_path: Path) -> None:
    file = write(tmp_path, MINIMAL)
    from_file = load_scenario(file)
    from_data = load_scenario(yaml.safe_load(MINIMAL))
    assert from_data.model_dump() == from_file.model_dump() and from_data.sha256 == from_file.sha256
    assert from_data.source_path is None


def test_problems_in_data_name_the_path_without_a_line() -> None:
    data = yaml.safe_load(MINIMAL)
    data["plans"][0]["units"][0]["patrol"]["at"] = "kpu_ofice"
    data["seed"] = -1
    with pytest.raises(InputError) as info:
        load_scenario(data)
    assert info.value.problems == [
        "scenario: seed: input should be greater than or equal to 0, got -1",
        "scenario: plans[0].units[0].patrol.at: unknown site 'kpu_ofice'; did you mean 'kpu_office'?",
    ]


def test_the_validated_scenario_is_frozen(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, MINIMAL))
    with pytest.raises(Exception, match="frozen"):
        s.seed = 8  # type: ignore[misc]
    with pytest.raises(Exception, match="frozen"):
        s.plans[0].units[0].patrol.at = "polres"  # type: ignore[misc]


# --- validated once, never changed after -------------------------------------------------------


def test_a_joint_group_becomes_its_members_when_validated_and_no_file_can_tag_a_group(tmp_path: Path) -> None:
    data = yaml.safe_load(MINIMAL)
    data["unit_types"]["tni_car"] = {"agency": "TNI"}
    data["plans"][0]["units"].insert(0, {"joint": ["polri_car", "tni_car"], "count": 1, "base": "polres",
                                         "on_dispatch": "together", "patrol": {"mode": "base"}})
    plan = load_scenario(data).plans[0]
    assert [(g.type, g.joint_tag) for g in plan.units[:3]] == [("polri_car", (0, "together")),
                                                               ("tni_car", (0, "together")), ("polri_car", None)]
    data["plans"][0]["units"][1]["joint_of"] = [0, "split"]
    with pytest.raises(InputError, match=r"plans\[0\].units\[1\].joint_of: unknown key 'joint_of'"):
        load_scenario(data)


def test_the_provenance_is_made_with_the_scenario_and_travels_with_it(tmp_path: Path) -> None:
    """raw, sha256, source_path and warnings are set while validating (nothing sets them later) and
    survive a pickle, as replications on worker processes receive the scenario."""
    import pickle

    text = edit(MINIMAL, "speed_factor: 0.9", "speed_factor: 9")  # a warning
    path = write(tmp_path, text)
    with pytest.warns(Warning, match="speed_factor"):
        s = load_scenario(path)
    again = pickle.loads(pickle.dumps(s))
    assert (again.raw, again.sha256, again.source_path, again.warnings) == (s.raw, s.sha256, s.source_path,
                                                                              s.warnings)
    assert s.warnings and s.warnings[0].startswith(f"{path}:{line_of(text, 'speed_factor: 9')}: ")
    assert Scenario.model_validate(yaml.safe_load(MINIMAL)).raw == {}  # without load_scenario: no provenance


def test_references_are_checked_against_the_parts_validated_before_them(tmp_path: Path) -> None:
    """A broken site list is reported once; what names its sites is not reported as unknown as well."""
    text = edit(MINIMAL, "lat: -8.1700", "lat: north")
    problems = problems_of(write(tmp_path, text))
    assert len(problems) == 1 and "sites[1].lat" in problems[0], problems


def test_a_wrong_count_does_not_hide_a_wrong_base_in_the_same_group(tmp_path: Path) -> None:
    """Each name is checked in its own field's validator, against the sections validated before."""
    text = edit(MINIMAL, "count: 2, base: polres", "count: 0, base: polress")
    problems = problems_of(write(tmp_path, text))
    line = line_of(text, "polress")
    assert any(p.startswith(f"{tmp_path / 'scenario.yaml'}:{line}: plans[1].units[0].count:") for p in problems), problems
    assert any(p.startswith(f"{tmp_path / 'scenario.yaml'}:{line}: plans[1].units[0].base: unknown site 'polress'; "
                            "did you mean 'polres'?") for p in problems), problems

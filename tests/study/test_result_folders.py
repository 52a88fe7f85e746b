"""Result folders can be re-run: a run's folder holds the run and, in sub-folders that belong to it,
what other commands wrote for the scenario (sweeps, optimisations, maps); writing the run again keeps
them as documented and never refuses them; a command's own folder is replaced whole by the same
request and refused to a different one, so nothing of two requests sits together; and every example
in the README and docs writes where no other example writes."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from sim.cli import main, parse_args
from sim.study.command_folders import IDENTITY_FILE, read_identity, sub_outputs
from tests.test_docs import DOCS, shown_commands

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
SHORT = ["--hours", "6", "--workers", "1"]
SWEEP = ["sweep", str(SCENARIO), "--param", "disturbances.provocation.rate_per_hour", "--reps", "1", *SHORT]
OPTIMIZE = ["optimize", str(SCENARIO), "--verify-reps", "2", "--set", "clock.duration_hours=6", "--workers", "1"]


def _digests(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (but the lock) -> its sha256: what a refused command must leave as it was."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file() and path.name != ".lock"}


@pytest.fixture(scope="module")
def scenario_folder(cache, tmp_path_factory) -> Path:
    """``results/jember-pilkada-2024`` after the docs' examples in order: the main job (short), a sweep
    and an optimisation into their default folders inside it, and a map of the run into its maps/."""
    here = tmp_path_factory.mktemp("docs-examples")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(here)
        assert main(["run", str(SCENARIO), "--reps", "2", *SHORT]) == 0
        assert main([*SWEEP, "--values", "0.1,0.5"]) == 0
        assert main([*OPTIMIZE, "--units", "3..4"]) == 0
        folder = here / "results" / "jember-pilkada-2024"
        assert main(["map", str(SCENARIO), "--plan", "mixed", "--results", str(folder),
                     "--out", str(folder / "maps" / "mixed.png")]) == 0
    return folder


@pytest.mark.slow
def test_the_main_job_runs_again_after_the_sweep_optimize_and_map_examples_and_keeps_them(scenario_folder,
                                                                                          monkeypatch):
    folder = scenario_folder
    runs, maps = sub_outputs(folder)
    assert runs == ["optimize-mclp-units-3..4", "sweep-disturbances.provocation.rate_per_hour"] and maps == ["maps"]
    before = {name: _digests(folder / name) for name in (*runs, *maps)}
    monkeypatch.chdir(folder.parent.parent)
    # The same run again: its results replaced, every sub-output kept as it was.
    assert main(["run", str(SCENARIO), "--reps", "2", *SHORT]) == 0
    assert {name: _digests(folder / name) for name in (*runs, *maps)} == before
    # A different run is refused (nothing changes), or with --replace put in: the sweep and the
    # optimisation (runs of their own) stay, the maps drawn from the replaced results go.
    assert main(["run", str(SCENARIO), "--reps", "2", "--seed", "7", *SHORT]) == 2
    assert {name: _digests(folder / name) for name in (*runs, *maps)} == before
    assert main(["run", str(SCENARIO), "--reps", "2", "--seed", "7", "--replace", *SHORT]) == 0
    assert sub_outputs(folder) == (runs, [])
    assert {name: _digests(folder / name) for name in runs} == {name: before[name] for name in runs}
    assert not list(folder.rglob(".lock")), "no lock file outlives its run"


@pytest.mark.slow
def test_a_second_optimisation_into_the_folder_of_another_is_refused_or_replaces_it_whole(scenario_folder, capsys):
    folder = scenario_folder / "optimize-mclp-units-3..4"
    assert {"fleet_curve.csv", "fleet_curve.png", IDENTITY_FILE} <= {p.name for p in folder.iterdir()}
    before = _digests(folder)
    capsys.readouterr()
    assert main([*OPTIMIZE, "--units", "3", "--out", str(folder)]) == 2
    message = capsys.readouterr().err
    assert "holds another optimisation (units [3, 4], not [3])" in message and "--replace" in message
    assert _digests(folder) == before, "a refused request leaves the folder as it was"
    assert main([*OPTIMIZE, "--units", "3", "--out", str(folder), "--replace"]) == 0
    names = {p.name for p in folder.iterdir()}
    assert "fleet_curve.csv" not in names and "fleet_curve.png" not in names, "nothing of the first request stays"
    assert read_identity(folder)["identity"]["request"]["units"] == [3]
    assert not list(folder.rglob(".lock"))


@pytest.mark.slow
def test_a_second_sweep_into_the_folder_of_another_is_refused_or_replaces_it_whole(scenario_folder, capsys):
    folder = scenario_folder / "sweep-disturbances.provocation.rate_per_hour"
    before = _digests(folder)
    capsys.readouterr()
    assert main([*SWEEP, "--values", "0.2", "--out", str(folder)]) == 2
    assert "holds another sweep (values 0.1, 0.5)" in capsys.readouterr().err
    assert _digests(folder) == before
    assert main([*SWEEP, "--values", "0.2", "--out", str(folder), "--replace"]) == 0
    values = sorted(p.name for p in folder.iterdir() if p.is_dir())
    assert values == ["disturbances.provocation.rate_per_hour=0.2"], "the first sweep's values are gone"
    assert read_identity(folder)["identity"]["values"] == ["0.2"]


def test_a_folder_patrolsim_did_not_write_is_never_taken_for_a_sub_output(tmp_path):
    (tmp_path / "sweep-mine").mkdir()
    (tmp_path / "sweep-mine" / "notes.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "holiday.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    assert sub_outputs(tmp_path) == ([], [])
    assert main(["run", str(SCENARIO), "--reps", "1", *SHORT, "--out", str(tmp_path)]) == 2
    assert (tmp_path / "sweep-mine" / "notes.txt").read_text(encoding="utf-8") == "mine"


# -- the documented examples ------------------------------------------------------------------------


def _scenario_name(path: str) -> str:
    return yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))["name"]


def destination(argv: list[str]) -> Path | None:
    """Where a documented command writes (a folder or a file), as the command works it out; None for
    commands that write no output of their own (validate, network, hypercube, report, sites, serve)."""
    from sim.optimize.outputs import default_folder
    from sim.study.experiment import safe_name

    args = parse_args(argv)
    command = args.command
    if command in ("run", "sweep", "optimize") and getattr(args, "out", None) is not None:
        return Path(args.out)
    if command == "run":
        return Path("results") / _scenario_name(str(args.scenario))
    if command == "sweep":
        return Path("results") / _scenario_name(str(args.scenario)) / f"sweep-{safe_name(args.param)}"
    if command == "optimize":
        from sim.cli.optimize import check_request

        return default_folder(check_request(args), _scenario_name(str(args.scenario)), args.objective)
    if command in ("map", "animate"):
        return Path(args.out)
    return None


def test_every_documented_example_writes_where_no_other_example_writes():
    written: dict[Path, tuple[str, ...]] = {}
    where: dict[Path, str] = {}
    clashes = []
    for path in DOCS:
        for line, argv in shown_commands(path):
            if any(word in ("SCHEDULER", "RESULTS_DIR", "FILE", "NAME") or word.startswith("tcp://") for word in argv):
                continue   # a pattern, not an example
            out = destination(argv)
            if out is None:
                continue
            command = tuple(argv)
            if out in written and written[out] != command:   # the same example shown twice writes one place
                clashes.append(f"{path.name}:{line} writes {out}, as {where[out]} does with another command")
            written.setdefault(out, command)
            where.setdefault(out, f"{path.name}:{line}")
    # A folder inside another example's folder is one of its sub-outputs (sweep-, optimize-, maps/).
    for out in written:
        for other in written:
            if other != out and other in out.parents and \
                    not out.relative_to(other).parts[0].startswith(("sweep-", "optimize-", "maps")):
                clashes.append(f"{where[out]} writes {out}, inside {where[other]}'s {other}")
    assert clashes == []
    assert len(written) >= 20, "the examples were found"

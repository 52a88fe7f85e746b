"""Result folders and single-file outputs, read and written through one door each: Results.to_dir
applies the rule the command line applies (the same run replaces its own, a different run is
refused unless forced), every file of a set is recorded in manifest.json with its size and sha256
and checked by every reader, reads are bounded by the record, a map, animation or report replaces
only a file patrolsim wrote for the same thing."""
from __future__ import annotations

import hashlib
import json
import shutil
import tracemalloc
from pathlib import Path

import pytest

from sim import Results, Study
from sim.errors import InputError

from tests.commands import in_process
from tests.commands import one_error_line as one_error

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
PLANS = ["all-at-hq", "mixed"]


def digests(folder: Path) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def study(cache) -> Study:
    return Study(SCENARIO)


@pytest.fixture(scope="module")
def written(study, tmp_path_factory) -> Path:
    """A result set as Results.to_dir writes it (seed 2024, 2 replications, 12 hours)."""
    out = tmp_path_factory.mktemp("written") / "out"
    study.run(plans=PLANS, reps=2, hours=12).to_dir(out, figures=False)
    return out


def copy_of(folder: Path, tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(folder, out)
    return out


# -- Results.to_dir: whose results the folder holds --------------------------------------------------------


def test_to_dir_refuses_another_runs_results_replaces_its_own_and_replaces_any_when_forced(study, written, tmp_path):
    out = copy_of(written, tmp_path)
    before = digests(out)
    other = study.run(plans=PLANS[1:], reps=1, hours=12, seed=5)
    with pytest.raises(InputError) as refused:
        other.to_dir(out, figures=False)
    (line,) = refused.value.problems
    assert f"out_dir {out}: holds the results of a different run (seed 2024, not 5; replications 2, not 1" in line
    assert "replace them with force=True" in line
    assert digests(out) == before, "a different run's results are kept whole"

    study.run(plans=PLANS, reps=2, hours=12).to_dir(out, figures=False)  # the same run replaces its own
    assert json.loads((out / "manifest.json").read_text())["seed"] == 2024
    other.to_dir(out, figures=False, force=True)
    assert json.loads((out / "manifest.json").read_text())["seed"] == 5


# -- manifest.json records every file; every reader checks it ---------------------------------------------


def test_the_manifest_records_every_file_of_the_set_with_its_size_and_sha256(written):
    manifest = json.loads((written / "manifest.json").read_text())
    on_disk = {path.relative_to(written).as_posix(): path for path in written.rglob("*")
               if path.is_file() and path.name != "manifest.json"}
    assert set(manifest["files"]) == set(on_disk) >= {"incidents.csv", "summary.csv", "sites.csv"}
    for name, path in on_disk.items():
        assert manifest["files"][name] == {"bytes": path.stat().st_size,
                                           "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}, name


def test_from_dir_reads_the_tables_back_as_written(study, written):
    saved = Results.from_dir(written)
    assert saved.plans == PLANS and saved.manifest["replications"] == 2
    assert list(saved.summary["plan"]) == PLANS
    assert len(saved.incidents) == int(saved.summary["incidents"].sum()) > 0
    assert set(saved.sites["plan"]) == set(PLANS)


def truncate(path: Path, size: int) -> None:
    path.write_bytes(path.read_bytes()[:size])


def test_a_truncated_sites_csv_is_refused_by_map_report_and_from_dir(written, tmp_path):
    out = copy_of(written, tmp_path)
    truncate(out / "sites.csv", 1000)  # `head -c 1000`: whole rows cut off, as if every site were fine
    expected = "sites.csv has 1,000 bytes where the run wrote"
    line = one_error(in_process("map", str(SCENARIO), "--plan", "mixed", "--results", str(out),
                                "--out", str(tmp_path / "map.png")))
    assert expected in line and f"--results {str(out)!r}" in line
    assert not (tmp_path / "map.png").exists()
    assert expected in one_error(in_process("report", str(out)))
    with pytest.raises(InputError, match=expected):
        Results.from_dir(out).sites  # noqa: B018


def test_a_file_of_the_same_size_but_other_content_is_refused_naming_it(written, tmp_path):
    out = copy_of(written, tmp_path)
    text = (out / "summary.csv").read_text()
    (out / "summary.csv").write_text(text.replace("all-at-hq", "all-at-HQ"))  # same length, other bytes
    with pytest.raises(InputError, match="summary.csv is not the file the run wrote"):
        Results.from_dir(out).summary  # noqa: B018


def test_only_the_files_asked_for_are_read(written, tmp_path):
    out = copy_of(written, tmp_path)
    with (out / "incidents.csv").open("a") as handle:
        handle.write("junk\n")
    saved = Results.from_dir(out)
    assert list(saved.summary["plan"]) == PLANS and len(saved.sites) > 0, "the summary without incidents.csv"
    with pytest.raises(InputError, match="incidents.csv has"):
        saved.incidents  # noqa: B018


def test_a_huge_damaged_summary_is_refused_before_it_is_read(written, tmp_path):
    out = copy_of(written, tmp_path)
    junk = b"x,y,z\n" * 7_000_000  # 42 MB of junk rows where summary.csv was
    (out / "summary.csv").write_bytes(junk)
    one_error(in_process("report", str(out)))  # once untraced: the modules it imports are not the file
    tracemalloc.start()
    try:
        line = one_error(in_process("report", str(out)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f"summary.csv has {len(junk):,} bytes where the run wrote" in line
    assert peak < 5_000_000, f"refusing a 42 MB file took {peak:,} bytes: it was read, not checked first"


def test_a_manifest_without_file_records_is_refused_when_a_file_is_read(written, tmp_path):
    out = copy_of(written, tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["files"]  # as an older patrolsim wrote it
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="records no size and sha256 of the result files"):
        Results.from_dir(out).summary  # noqa: B018


# -- single-file outputs -----------------------------------------------------------------------------------


def test_map_does_not_overwrite_a_file_patrolsim_did_not_write(cache, tmp_path):
    mine = tmp_path / "existing.geojson"
    mine.write_text('{"type": "FeatureCollection", "features": []}')
    line = one_error(in_process("map", str(SCENARIO), "--plan", "mixed", "--out", str(mine)))
    assert f"--out {mine}: holds a file patrolsim did not write" in line and "--replace" in line
    assert mine.read_text() == '{"type": "FeatureCollection", "features": []}'


@pytest.mark.slow
def test_map_replaces_a_file_with_replace_then_only_its_own(cache, tmp_path):
    mine = tmp_path / "existing.geojson"
    mine.write_text('{"type": "FeatureCollection", "features": []}')
    assert in_process("map", str(SCENARIO), "--plan", "mixed", "--out", str(mine), "--replace").returncode == 0
    collection = json.loads(mine.read_text())
    assert collection["name"] == "jember-pilkada-2024: mixed", "named by scenario and plan, not the temporary file"
    assert in_process("map", str(SCENARIO), "--plan", "mixed", "--out", str(mine)).returncode == 0, \
        "the same map replaces its own file"
    line = one_error(in_process("map", str(SCENARIO), "--plan", "fixed-posts", "--out", str(mine)))
    assert "holds a file patrolsim wrote for another command, scenario or plan" in line


@pytest.mark.parametrize("out", ["x.geojson/", "x.png/"])
def test_a_map_or_animation_out_ending_in_a_slash_is_refused(tmp_path, out):
    for command in (["map", str(SCENARIO), "--plan", "mixed"],
                    ["animate", str(SCENARIO), "--plan", "mixed", "--hours", "1"]):
        line = one_error(in_process(*command, "--out", f"{tmp_path}/{out}"))
        assert "give a file name, not a folder" in line
    assert list(tmp_path.iterdir()) == []


def test_animate_does_not_overwrite_a_file_patrolsim_did_not_write(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<html><head></head><body>mine</body></html>")
    line = one_error(in_process("animate", str(SCENARIO), "--plan", "mixed", "--hours", "1",
                                "--out", str(page)))
    assert f"--out {page}: holds a file patrolsim did not write" in line
    assert page.read_text().endswith("mine</body></html>")


def test_report_does_not_overwrite_a_report_html_patrolsim_did_not_write(written, tmp_path):
    out = copy_of(written, tmp_path)
    (out / "report.html").write_text("<html><head></head><body>my notes</body></html>")
    line = one_error(in_process("report", str(out)))
    assert f"{out / 'report.html'}: holds a file patrolsim did not write" in line and "--replace" in line
    assert "my notes" in (out / "report.html").read_text()


def test_the_stamp_marks_every_single_file_format(tmp_path):
    """A PNG, GIF, HTML page, GeoJSON and GeoPackage each carry the mark and stay readable."""
    import geopandas
    import shapely
    from PIL import Image

    from sim.files import file_stamp, output_stamp, write_output

    stamp = output_stamp("map", "scenario", "plan")
    frame = geopandas.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs="EPSG:4326")
    writers = {
        "m.png": lambda tmp: Image.new("RGB", (4, 4)).save(tmp, format="PNG"),
        "m.gif": lambda tmp: Image.new("P", (4, 4)).save(tmp, format="GIF"),
        "m.html": lambda tmp: tmp.write_text("<!DOCTYPE html><html><head><title>t</title></head></html>"),
        "m.geojson": lambda tmp: frame.to_file(tmp, driver="GeoJSON", engine="pyogrio"),
        "m.gpkg": lambda tmp: (tmp.unlink(), frame.to_file(tmp, layer="sites", driver="GPKG", engine="pyogrio")),
    }
    for name, write in writers.items():
        path = write_output(tmp_path / name, stamp, write)
        assert file_stamp(path) == stamp, name
    assert Image.open(tmp_path / "m.png").text["patrolsim"] == stamp
    Image.open(tmp_path / "m.gif").load()
    assert json.loads((tmp_path / "m.geojson").read_text())["patrolsim"] == stamp
    assert len(geopandas.read_file(tmp_path / "m.gpkg", layer="sites")) == 1

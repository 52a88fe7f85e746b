"""Results folders: no silent overwrite (a different run is refused, the same run replaces its own,
--replace, --resume, .parts/ removed or kept), and report.html, one self-contained page checked in
the real headless Chromium."""
from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from tests.browser import chromium_driver, js_errors
from tests.commands import as_process
from tests.commands import in_process as cli
from tests.commands import one_error_line as one_error

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
RUN = ["run", str(SCENARIO), "--hours", "12", "--reps", "2", "--workers", "1"]
CSV_FILES = ("incidents.csv", "units.csv", "summary.csv", "comparison.csv")


def digests(folder: Path) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file() and path.name != ".lock"}


@pytest.fixture(scope="module")
def finished(cache, tmp_path_factory) -> Path:
    """The result folder of a small run, as `run` leaves it (report.html included)."""
    out = tmp_path_factory.mktemp("finished") / "out"
    result = cli(*RUN, "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def copy_of(finished: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    return out


# -- no silent overwrite ----------------------------------------------------------------------------------


def test_a_finished_run_leaves_its_files_and_report_and_no_parts(finished):
    names = sorted(path.name for path in finished.iterdir())
    assert ".parts" not in names, "the finished replications are deleted once the result files are written"
    assert ".lock" not in names, "no lock file outlives its run"
    assert {"manifest.json", "report.html", "sites.csv", *CSV_FILES} <= set(names)


@pytest.mark.parametrize("flags, difference", [
    (["--seed", "7"], "seed 2024, not 7"),
    (["--hours", "6"], "hours 12, not 6"),
    (["--reps", "3"], "replications 2, not 3"),
    (["--plan", "mixed", "--plan", "all-at-hq"], "plans all-at-hq, fixed-posts, joint-circuit, mixed, mixed-plus-one, "
                                                 "not mixed, all-at-hq"),
    (["--set", "disturbances.provocation.rate_per_hour=0.3"], "another scenario content"),
    (["--reps", "auto"], "replications 2, not auto (precision 0.05, at most 200)"),
], ids=["seed", "hours", "replications", "plans", "scenario", "reps-auto"])
def test_a_different_run_is_refused_naming_the_difference(finished, tmp_path, flags, difference):
    out = copy_of(finished, tmp_path)
    before = digests(out)
    args = list(RUN)
    for flag in flags:  # the flags given replace the run's own
        if flag.startswith("--") and flag in args and flag not in ("--plan", "--set"):
            index = args.index(flag)
            del args[index:index + 2]
    line = one_error(cli(*args, *flags, "--out", str(out)))
    assert f"--out {out}: holds the results of a different run ({difference})" in line
    assert "keep them by giving another --out, or replace them with --replace" in line
    assert digests(out) == before, "nothing written, nothing deleted"


def test_another_road_network_or_auto_aim_is_a_different_run(finished, tmp_path):
    from sim.study.folders import auto_replications, differences, manifest_identity

    manifest = json.loads((finished / "manifest.json").read_text())
    held = manifest_identity(manifest)
    other = json.loads(json.dumps(manifest))
    other["network"]["content_hash"] = "0" * 64
    assert differences(held, manifest_identity(other)) == ["another road network"]
    assert differences(held, held) == []
    # A --reps auto run is known by its aim and bound (manifest.json's precision block), not its count.
    auto = json.loads(json.dumps(manifest))
    auto["precision"] = {"aim_share": 0.05, "max_reps": 40, "replications": 15}
    assert manifest_identity(auto)["replications"] == auto_replications(0.05, 40) == "auto (precision 0.05, at most 40)"
    assert differences(manifest_identity(auto), held) == ["replications auto (precision 0.05, at most 40), not 2"]


@pytest.mark.slow
def test_the_same_run_replaces_its_own_results(finished, tmp_path):
    out = copy_of(finished, tmp_path)
    again = as_process(*RUN, "--out", str(out))  # a process of its own: the page names its command line (sys.argv)
    assert again.returncode == 0, again.stderr
    for name in (*CSV_FILES, "sites.csv"):
        assert (out / name).read_bytes() == (finished / name).read_bytes(), name
    assert f"--out {out}" in (out / "report.html").read_text(encoding="utf-8"), "its own page, made again"


@pytest.mark.slow
def test_replace_replaces_a_different_run(finished, tmp_path):
    out = copy_of(finished, tmp_path)
    replaced = cli(*RUN, "--seed", "7", "--out", str(out), "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert json.loads((out / "manifest.json").read_text())["seed"] == 7


@pytest.mark.slow
def test_resume_adds_replications_to_a_run_whose_parts_were_kept(cache, tmp_path):
    out = tmp_path / "out"
    assert cli(*RUN, "--out", str(out), "--keep-parts").returncode == 0
    assert len(list((out / ".parts").glob("plan*.json"))) == 10, "--keep-parts keeps them"
    more = [*RUN[:-4], "--reps", "3", "--workers", "1"]
    assert "--reps" in RUN[-4:]
    resumed = cli(*more, "--out", str(out), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((out / "manifest.json").read_text())["replications"] == 3
    assert not (out / ".parts").exists(), "gone once the result files are written"
    # Without parts to add to, --resume is a run like any other: a different one is refused.
    line = one_error(cli(*RUN[:-4], "--reps", "4", "--workers", "1", "--out", str(out), "--resume"))
    assert "replications 3, not 4" in line and "--keep-parts" in line


@pytest.mark.slow
def test_the_replications_of_an_interrupted_other_run_are_not_deleted(cache, tmp_path):
    out = tmp_path / "out"
    assert cli(*RUN, "--out", str(out), "--keep-parts").returncode == 0
    for name in ("manifest.json", *CSV_FILES):  # as a run killed before its result files leaves it
        (out / name).unlink()
    parts = sorted(p.name for p in (out / ".parts").iterdir())
    line = one_error(cli(*RUN, "--seed", "9", "--out", str(out)))
    assert "holds the results of an interrupted run (10 finished replications of another scenario" in line
    assert sorted(p.name for p in (out / ".parts").iterdir()) == parts


@pytest.mark.slow
def test_a_sweep_keeps_safe_value_folders_and_refuses_another_sweep_into_them(cache, tmp_path):
    out = tmp_path / "sweep"
    sweep = ["sweep", str(SCENARIO), "--param", "disturbances.provocation.rate_per_hour", "--values", "0.1,0.2",
             "--plan", "all-at-hq", "--reps", "1", "--hours", "3", "--workers", "1", "--out", str(out)]
    assert cli(*sweep).returncode == 0
    values = ["disturbances.provocation.rate_per_hour=0.1", "disturbances.provocation.rate_per_hour=0.2"]
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == values
    for value in values:
        assert not (out / value / ".parts").exists() and not (out / value / "report.html").exists()
    assert cli(*sweep).returncode == 0, "the same sweep again replaces its own"
    line = one_error(cli(*sweep[:-2], "--seed", "3", "--out", str(out)))
    assert f"{out}: holds another sweep (seed 2024, not 3)" in line and "--replace" in line


# -- report.html ------------------------------------------------------------------------------------------------


def test_the_report_is_one_self_contained_page(finished):
    page = (finished / "report.html").read_text(encoding="utf-8")
    links = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", page, flags=re.I)
    assert links, "the page has images and in-page links"
    assert all(link.startswith(("data:image/png;base64,", "#")) for link in links), \
        [link[:60] for link in links if not link.startswith(("data:", "#"))]
    assert not re.search(r"https?://", page), "no address outside the page"
    assert "<script" not in page.lower() and "@import" not in page and "url(" not in page
    figures = sorted(p.name for p in (finished / "figures").glob("*.png"))
    for name in figures:
        assert f"figures/{name}" in page
    assert "synthetic demo network of Jember (not real roads)" in page
    assert "Placeholder positions (position not verified): Kodim 0824 Jember" in page
    assert 'id="events"' not in page and "#events" not in page, "no events section for a scenario without events"


@pytest.mark.slow
def test_the_report_renders_in_chromium_without_errors_or_requests(finished):
    summary = (finished / "summary.csv").read_text().splitlines()[1:]
    plans = [line.split(",")[0] for line in summary]
    with (finished / "sites.csv").open() as handle:
        sites = list(csv.DictReader(handle))
    with_incidents = {row["site_name"] for row in sites if int(row["incidents"]) > 0}
    late_somewhere = {row["site_name"] for row in sites if int(row["late"]) > 0}
    assert 0 < len(with_incidents) <= 5
    with chromium_driver(1280, 900) as driver:
        driver.get((finished / "report.html").as_uri())
        assert js_errors(driver) == []
        requested = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert requested == [], requested
        plan_table = driver.execute_script(
            "return [...document.querySelectorAll('#plans tbody tr td.name b')].map(b => b.textContent)")
        assert plan_table == plans
        images = driver.execute_script(
            "return [...document.images].map(i => [i.alt, i.complete && i.naturalWidth > 0, i.clientWidth])")
        figures = len(list((finished / "figures").glob("*.png")))
        assert len(images) == figures + 1, "every figure and the map"
        assert all(decoded and width > 300 for _, decoded, width in images), images
        shown = driver.execute_script(
            "return [...document.querySelectorAll('#sites tbody td.name')].map(td => td.firstChild.textContent)")
        assert set(shown) == late_somewhere, "each plan's five with most late: here every site with a late incident"
        if not late_somewhere:
            assert "No site has an incident reached late" in driver.find_element("id", "sites").text
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 1280, "no sideways scroll"


def test_site_and_priority_shares_are_bounded_with_their_late_counts(cache, tmp_path):
    from sim import Study
    from sim.study.report import read_folder
    from sim.i18n import messages
    from sim.study.report_places import priorities_section, sites_section

    folder = Study(SCENARIO).run(plans=["all-at-hq", "mixed"], reps=3, hours=24).to_dir(tmp_path / "out", figures=False)
    data = read_folder(folder)
    late = {(row["plan"], row["site"]): int(row["late"]) for row in data["sites"]}
    rank = {(row["plan"], row["site"]): (-int(row["late"]), float(row["within_target_pooled_pct"] or 100),
                                         -int(row["incidents"]), row["site"]) for row in data["sites"]}
    for section in (sites_section(data, messages("en")), priorities_section(data, messages("en"))):
        cells = re.findall(r'<td class="share"[^>]*>(.*?)</td>', section)
        assert cells and "±" not in section, "shares carry a bounded interval, not ±"
        for cell in cells:  # 33% <small>(6–79)</small><br><small>3 late, 9.4 min</small>
            share, low, high = map(float, re.match(r"(\d+)% <small>\((\d+)–(\d+)\)", cell).groups())
            assert 0 <= low <= share <= high <= 100, cell
            assert re.search(r"<small>\d+\s+late", cell), cell   # a note breaks only after its punctuation
    # The sites shown: each plan's five with the most late incidents, most late (over the plans) first.
    shown = re.findall(r'<td class="name">([^<]+)<small>', sites_section(data, messages("en")))
    names = {row["site"]: row["site_name"] for row in data["sites"]}
    total = {site: sum(late[plan, site] for plan in ("all-at-hq", "mixed")) for site in names}
    expected = {names[site] for plan in ("all-at-hq", "mixed")
                for site in sorted((s for s in names if late[plan, s]), key=lambda s: rank[plan, s])[:5]}
    assert set(shown) == expected
    assert [total[next(s for s in names if names[s] == name)] for name in shown] == \
        sorted((total[next(s for s in names if names[s] == name)] for name in shown), reverse=True)
    # The intro's bound on the rows never exceeds the sites there are (12 here, not "25 of 12").
    sites = len(names)
    assert f"at most {min(25, sites)} of {sites} sites" in sites_section(data, messages("en"))


@pytest.mark.slow
def test_report_command_writes_the_page_again_and_says_what_is_missing(finished, tmp_path):
    out = copy_of(finished, tmp_path)
    (out / "report.html").unlink()
    for name in ("sites.csv", "priorities.csv"):
        (out / name).unlink()
    shutil.rmtree(out / "figures")
    made = cli("report", str(out))
    assert made.returncode == 0, made.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Not available: this folder has no sites.csv." in page
    assert "Not available: this folder has no priorities.csv." in page
    assert "Not available: this folder has no figures" in page
    assert page.count("<img") == 1, "the map, drawn again from the run's scenario and network"


@pytest.mark.parametrize("case, expected", [
    ("missing", "not a folder; give a results folder"),
    ("empty", "not a results folder, it has no manifest.json"),
    ("sweep", "a sweep's results are in its PARAM=VALUE folders"),
    ("bad-manifest", "manifest.json: not the manifest of a patrolsim run"),
    ("no-summary", "not a results folder, summary.csv is missing or empty"),
])
def test_report_of_a_folder_that_is_not_results_is_one_line(cache, finished, tmp_path, case, expected):
    folder = tmp_path / "folder"
    if case == "empty":
        folder.mkdir()
    elif case == "sweep":
        folder.mkdir()
        (folder / "sweep.csv").write_text("value,plan\n")
    elif case == "bad-manifest":
        folder.mkdir()
        (folder / "manifest.json").write_text("[1, 2]")
    elif case == "no-summary":
        folder = copy_of(finished, tmp_path)
        (folder / "summary.csv").unlink()
    before = digests(folder) if folder.exists() else None
    assert expected in one_error(cli("report", str(folder)))
    assert (digests(folder) if folder.exists() else None) == before, "nothing written"


def test_the_map_is_not_drawn_on_another_road_network_than_the_run_had(finished):
    from sim.study.report import map_image

    manifest = json.loads((finished / "manifest.json").read_text())
    manifest["network"]["content_hash"] = "0" * 64  # as if the run had been on other roads
    uri, text = map_image(manifest, "mixed")
    assert uri == ""
    assert text == ("not available: the road network at hand is not the one of this run "
                    "(synthetic demo network of Jember (not real roads))")

"""Figures: valid PNGs of the promised size, and the plotted data equal to the data computed here."""
from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.image import imread

from sim.config import load_scenario
from sim.study.breakdowns import site_rows
from sim.study.incident_columns import plan_columns
from sim.study.stats import comparison_row, summary_row
from sim.model.records import incident_rows, unit_rows
from sim.model import build_world, simulate
from sim.network.roads import load_network
from sim.viz.plots import (
    DPI,
    FIGSIZE_IN,
    SWEEP_FIGSIZE_IN,
    dodge_offset,
    ecdf_figure,
    site_response_figure,
    sweep_figure,
    within_target_figure,
    write_figures,
    write_sweep_figure,
)

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "jember_pilkada_2024.yaml"
PLANS = ["base-only", "posts", "circuit"]
SITES = ["kpu_office", "alun_alun", "unej", "tanggul"]
TARGET_MIN = 15.0


def random_incidents(seed: int = 7) -> list[dict]:
    """Incident rows as sim.model.records makes them, with warm-up (uncounted) and never-reached incidents.

    Site 'tanggul' sees no incident under plan 'posts', so its heat-table cell must stay empty.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for plan_index, plan in enumerate(PLANS):
        for rep in range(3):
            for incident_id in range(40):
                site = SITES[rng.integers(len(SITES))]
                if plan == "posts" and site == "tanggul":
                    continue
                response = float(rng.lognormal(1.5 + 0.3 * plan_index, 0.7))
                reached = rng.random() > 0.05
                rows.append({
                    "plan": plan, "rep": rep, "incident_id": incident_id, "site": site,
                    "response_min": response if reached else None,
                    "counted": int(rng.random() > 0.1),
                })
    return rows


def summaries(incidents: list[dict]) -> list[dict]:
    """Summary rows from sim.study.stats, fed only reached incidents as the model gives it (it follows
    every incident until answered); the never-reached ones above are for the figures' own handling."""
    return [
        summary_row(plan, [r for r in incidents if r["plan"] == plan and r["response_min"] is not None],
                    [{"rep": rep, "busy_fraction": 0.1} for rep in range(3)], TARGET_MIN)
        for plan in PLANS
    ]


def comparisons(incidents: list[dict]) -> list[dict]:
    """Each plan against the first, paired by replication, as sim.study.stats makes them."""
    reached = [r for r in incidents if r["response_min"] is not None]
    return [comparison_row(plan, PLANS[0], [r for r in reached if r["plan"] == plan],
                           [r for r in reached if r["plan"] == PLANS[0]], TARGET_MIN, range(3)) for plan in PLANS]


def sites(incidents: list[dict], plans: list[str] = PLANS) -> list[dict]:
    """sites.csv rows (sim.study.breakdowns) of the sites named in the incidents."""
    named = [SimpleNamespace(id=site, name=f"Site {site}", kind="crowd_point") for site in SITES]
    rows = [dict(r, escalated=0) for r in incidents if r["response_min"] is not None]
    return site_rows(plan_columns(rows), plans, named, TARGET_MIN)


def figures(path: Path, incidents: list[dict], summary: list[dict] | None = None, synthetic: bool = True):
    summary = summaries(incidents) if summary is None else summary
    plans = [row["plan"] for row in summary]
    return write_figures(path, "test-scenario", synthetic, TARGET_MIN, incidents, summary,
                         comparisons(incidents)[:len(plans)], sites(incidents, plans))


def assert_png(path: Path, size_in: tuple[float, float]) -> None:
    """The file decodes as PNG, has the figure's pixel size and is not blank."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(path)
    width, height = (round(side * DPI) for side in size_in)
    assert pixels.shape[:2] == (height, width)
    assert pixels[..., :3].std() > 0.05      # a blank or single-colour image has (near) zero spread


def labelled_lines(ax) -> list:
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def test_write_figures_writes_three_pngs_of_the_expected_size(tmp_path):
    incidents = random_incidents()
    paths = figures(tmp_path, incidents)
    folder = tmp_path / "figures"
    assert paths == [folder / "response_ecdf.png", folder / "within_target.png", folder / "site_response.png"]
    assert_png(paths[0], FIGSIZE_IN)
    assert_png(paths[1], FIGSIZE_IN)
    heat = site_response_figure("test-scenario", True, TARGET_MIN, PLANS, sites(incidents))
    assert_png(paths[2], tuple(heat.get_size_inches()))
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths)   # no temp files left


def test_write_figures_replaces_existing_files(tmp_path):
    incidents = random_incidents()
    first = figures(tmp_path, incidents, synthetic=False)
    fewer = [r for r in incidents if r["plan"] == PLANS[0]]
    again = figures(tmp_path, fewer, summaries(incidents)[:1], synthetic=False)
    assert again == first
    assert len(list((tmp_path / "figures").iterdir())) == 3
    assert_png(again[0], FIGSIZE_IN)


def test_ecdf_lines_are_the_empirical_cdf_of_counted_responses():
    incidents = random_incidents()
    fig = ecdf_figure("test-scenario", False, TARGET_MIN, PLANS, incidents)
    ax = fig.axes[0]
    lines = labelled_lines(ax)
    assert len(lines) == len(PLANS)
    for plan, line in zip(PLANS, lines):
        counted = [r for r in incidents if r["plan"] == plan and r["counted"]]
        reached = [r["response_min"] for r in counted if r["response_min"] is not None]
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        assert plan in line.get_label()
        np.testing.assert_allclose(x, sorted(reached))
        # At each plotted time the curve's top equals the share of counted incidents reached by then;
        # the never-reached ones stay in the denominator.
        for t in np.unique(x):
            share = sum(r <= t for r in reached) / len(counted)
            assert y[x == t].max() == pytest.approx(share)
        assert y[-1] == pytest.approx(len(reached) / len(counted)) and y[-1] < 1.0
    # The legend names the plans only; how many incidents is said once, not per plan.
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "plan"
    assert [text.get_text().split(" (")[0] for text in legend.get_texts()] == PLANS
    target_lines = [line for line in ax.get_lines() if list(line.get_xdata()) == [TARGET_MIN, TARGET_MIN]]
    assert len(target_lines) == 1
    assert any(f"target {TARGET_MIN:g} min" in text.get_text() for text in ax.texts)


@pytest.mark.parametrize("builder", ["ecdf", "within", "site", "sweep"])
def test_titles_name_the_scenario_and_say_synthetic_only_when_synthetic(builder):
    incidents = random_incidents()
    summary = summaries(incidents)
    sweep_rows = [dict(row, value=v) for v in (1, 2) for row in summary]
    build = {
        "ecdf": lambda synthetic: ecdf_figure("jember-test", synthetic, TARGET_MIN, PLANS, incidents),
        "within": lambda synthetic: within_target_figure("jember-test", synthetic, TARGET_MIN, summary,
                                                         comparisons(incidents)),
        "site": lambda synthetic: site_response_figure("jember-test", synthetic, TARGET_MIN, PLANS, sites(incidents)),
        "sweep": lambda synthetic: sweep_figure("jember-test", synthetic, "units", sweep_rows),
    }[builder]
    synthetic_title = build(True).get_suptitle()
    real_title = build(False).get_suptitle()
    assert "jember-test" in synthetic_title and "jember-test" in real_title
    assert "synthetic road network" in synthetic_title
    assert "synthetic" not in real_title


@pytest.mark.parametrize("metric, key", [("within_target", "within_target_pooled_pct"),
                                         ("response", "response_mean_min")])
def test_heat_table_cells_are_the_sites_csv_figures_worst_first(metric, key):
    """Cells hold sites.csv's figures (the share pooled over replications, as the report and maps give
    it); worst first: the most late incidents (or the slowest mean response) at the top."""
    incidents = random_incidents()
    rows = sites(incidents)
    fig = site_response_figure("test-scenario", False, TARGET_MIN, PLANS, rows, metric=metric)
    ax = fig.axes[0]
    cells = ax.images[0].get_array()
    names = [label.get_text() for label in ax.get_yticklabels()]
    assert sorted(names) == sorted(f"Site {s}" for s in SITES)
    assert [label.get_text().split("\n")[0] for label in ax.get_xticklabels()] == PLANS
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts
             if t.get_text().endswith("\n")}   # the bold value line of each filled cell
    value = {(r["site_name"], r["plan"]): r for r in rows}
    for i, name in enumerate(names):
        for j, plan in enumerate(PLANS):
            row = value[(name, plan)]
            if row["incidents"] == 0:
                assert np.ma.is_masked(cells[i, j])
                continue
            assert cells[i, j] == pytest.approx(row[key])
            shown = f"{row[key]:.0f}%" if metric == "within_target" else f"{row[key]:.1f}"
            assert texts[(i, j)].strip() == shown
    assert np.ma.is_masked(cells[names.index("Site tanggul"), PLANS.index("posts")])
    # Worst first: the mean over plans of the late incidents falls (or of the response) down the rows.
    if metric == "within_target":
        means = [np.mean([value[(name, plan)]["late"] for plan in PLANS]) for name in names]
    else:
        means = list(np.nanmean(np.ma.filled(cells.astype(float), np.nan), axis=1))
    assert means == sorted(means, reverse=True)


def test_heat_table_of_thousands_of_sites_shows_the_worst_and_says_so():
    rng = np.random.default_rng(5)
    rows = [{"plan": plan, "site": f"tps-{i:04d}", "site_name": f"TPS {i}", "kind": "polling_station",
             "incidents": int(i % 3 != 0), "response_mean_min": float(rng.uniform(1, 30)),
             "within_target_pct": float(rng.choice([0.0, 100.0]))} for plan in PLANS for i in range(4041)]
    fig = site_response_figure("test-scenario", True, TARGET_MIN, PLANS, rows, max_sites=25)
    ax = fig.axes[0]
    assert len(ax.get_yticklabels()) == 25
    assert "the 25 worst of 2,694 sites with incidents" in fig.get_suptitle().replace("\n", " ")
    assert np.nanmax(np.ma.filled(ax.images[0].get_array().astype(float), np.nan)) == 0.0   # only failing sites


def test_within_target_figure_is_a_forest_plot_of_paired_differences():
    incidents = random_incidents()
    summary, comparison = summaries(incidents), comparisons(incidents)
    ax = within_target_figure("test-scenario", False, TARGET_MIN, summary, comparison).axes[0]
    # One point per plan other than the reference, at its paired difference, whisker = its 95% interval.
    drawn = [line for line in ax.get_lines() if line.get_marker() == "o"]
    others = comparison[1:]
    assert [container.get_label() for container in ax.containers] == [row["plan"] for row in others]
    assert len(drawn) == len(others)
    for line, row in zip(drawn, others):
        assert line.get_xdata()[0] == pytest.approx(row["within_target_diff_pct"])
    whiskers = [c for c in ax.collections if c.get_segments()]
    for whisker, row in zip(whiskers, others):
        (x0, _), (x1, _) = whisker.get_segments()[0]
        half = row["within_target_diff_ci95"]
        assert (x0, x1) == pytest.approx((row["within_target_diff_pct"] - half, row["within_target_diff_pct"] + half))
    assert any(list(line.get_xdata()) == [0, 0] for line in ax.get_lines())   # the reference line
    right = [label.get_text() for label in ax.figure.axes[1].get_yticklabels()]
    assert [" ".join(text.split("\n")[1:]) for text in right] == [row["within_target_verdict"] for row in others]


def test_figures_survive_missing_values(tmp_path):
    """One replication gives NaN intervals; a plan with no counted incident has no mean at all."""
    incidents = random_incidents()
    summary = summaries(incidents)
    summary[0] = dict(summary[0], within_target_ci95=math.nan, response_mean_ci95=None)
    summary.append(dict(summary[1], plan="idle", incidents=0, response_mean_min=None, response_mean_ci95=None,
                        within_target_pct=math.nan, within_target_ci95=None))
    paths = figures(tmp_path, incidents, summary, synthetic=False)
    for path in paths:
        assert imread(path).shape[2] == 4
    fig = ecdf_figure("test-scenario", False, TARGET_MIN, PLANS + ["idle"], incidents)
    assert len(labelled_lines(fig.axes[0])) == len(PLANS) + 1
    # Without any counted incident the heat table says so instead of drawing an empty grid.
    empty = figures(tmp_path / "empty", [], summary, synthetic=False)[2]
    heat = site_response_figure("test-scenario", False, TARGET_MIN, [r["plan"] for r in summary], sites([]))
    assert not heat.axes[0].images
    assert_png(empty, tuple(heat.get_size_inches()))


def sweep_rows(values: list, plans: list[str], seed: int = 3) -> list[dict]:
    """Sweep rows in the lead's layout, one per (value, plan), with a missing interval here and there."""
    rng = np.random.default_rng(seed)
    rows = []
    for value in values:
        for plan in plans:
            rows.append({
                "value": value, "plan": plan,
                "response_mean_min": float(rng.uniform(3, 20)),
                "response_mean_ci95": None if rng.random() < 0.2 else float(rng.uniform(0.5, 3)),
                "within_target_pct": float(rng.uniform(50, 100)),
                "within_target_ci95": math.nan if rng.random() < 0.2 else float(rng.uniform(1, 30)),
            })
    return rows


def test_sweep_figure_has_one_line_per_plan_in_each_panel(tmp_path):
    values = [8, 2, 4, 6]     # given out of order: the lines must still run left to right
    rows = sweep_rows(values, PLANS)
    path = write_sweep_figure(tmp_path / "sweep.png", "test-scenario", True, "polri_car count", rows)
    assert path == tmp_path / "sweep.png"
    assert_png(path, SWEEP_FIGSIZE_IN)
    fig = sweep_figure("test-scenario", True, "polri_car count", rows)
    response_ax, within_ax = fig.axes
    for ax, key in ((response_ax, "response_mean_min"), (within_ax, "within_target_pct")):
        lines = labelled_lines(ax)
        assert [line.get_label().split(" ")[0] for line in lines] == PLANS
        for k, (plan, line) in enumerate(zip(PLANS, lines)):
            expected = sorted((r["value"], r[key]) for r in rows if r["plan"] == plan)
            # Plans side by side around each value (dodged by a fixed share of the gap), no bands.
            shift = dodge_offset(k, len(PLANS), 2.0)
            np.testing.assert_allclose(line.get_xdata(), [v + shift for v, _ in expected])
            np.testing.assert_allclose(line.get_ydata(), [m for _, m in expected])
        assert not [c for c in ax.collections if type(c).__name__ == "FillBetweenPolyCollection"
                    or c.__class__.__name__ == "PolyCollection"]
    assert len({dodge_offset(k, len(PLANS), 2.0) for k in range(len(PLANS))}) == len(PLANS)
    # The axis says what the value varies, in words, and the path it was given as.
    assert within_ax.get_xlabel() == "polri car count\n(polri_car count)"


def test_sweep_figure_with_text_values_places_them_in_given_order(tmp_path):
    values = ["nearest", "priority", "zone"]
    rows = sweep_rows(values, PLANS)
    assert_png(write_sweep_figure(tmp_path / "s.png", "test-scenario", False, "dispatch.policy", rows),
               SWEEP_FIGSIZE_IN)
    fig = sweep_figure("test-scenario", False, "dispatch.policy", rows)
    for ax in fig.axes:
        assert len(labelled_lines(ax)) == len(PLANS)
    assert [label.get_text() for label in fig.axes[1].get_xticklabels()] == values


@pytest.fixture(scope="module")
def simulated(cache):
    """Incident and summary rows of a short real run of the default scenario on the demo network."""
    scenario = load_scenario(SCENARIO, {"replications": 2, "clock.duration_hours": 24})
    network = load_network(scenario.network)
    world = build_world(scenario, network)
    incidents, summary = [], []
    for plan in [p.name for p in scenario.plans][:3]:
        results = [simulate(scenario, world, plan, rep) for rep in range(scenario.replications)]
        plan_incidents = [row for result in results for row in incident_rows(result)]
        plan_units = [row for result in results for row in unit_rows(result)]
        incidents += plan_incidents
        summary.append(summary_row(plan, plan_incidents, plan_units, scenario.target_response_min))
    return scenario, network, incidents, summary


@pytest.mark.slow
def test_figures_of_a_real_run(tmp_path, simulated):
    scenario, network, incidents, summary = simulated
    assert network.synthetic and incidents
    plans = [row["plan"] for row in summary]
    target = scenario.target_response_min
    comparison = [comparison_row(plan, plans[0], [r for r in incidents if r["plan"] == plan],
                                 [r for r in incidents if r["plan"] == plans[0]], target, range(2)) for plan in plans]
    site_table = site_rows(plan_columns(incidents), plans, scenario.sites, target)
    paths = write_figures(tmp_path, scenario.name, network.synthetic, target, incidents, summary, comparison,
                          site_table)
    assert_png(paths[0], FIGSIZE_IN)
    assert_png(paths[1], FIGSIZE_IN)
    heat = site_response_figure(scenario.name, True, target, plans, site_table)
    assert_png(paths[2], tuple(heat.get_size_inches()))
    # The forest plot's points are the paired differences, in summary order after the reference.
    forest = within_target_figure(scenario.name, True, target, summary, comparison).axes[0]
    points = [line.get_xdata()[0] for line in forest.get_lines() if line.get_marker() == "o"]
    np.testing.assert_allclose(points, [row["within_target_diff_pct"] for row in comparison[1:]])


def test_sweep_axis_names_what_the_parameter_varies_not_its_yaml_path():
    from sim.viz.words import param_words

    assert param_words("disturbances.provocation.rate_per_hour") == "provocation: rate per hour"
    assert param_words("plans.mixed.units[0].count") == "plan mixed, unit group 1: count"
    assert param_words("unit_types.polri_car.speed_factor") == "unit type polri_car: speed factor"
    fig = sweep_figure("test-scenario", False, "disturbances.provocation.rate_per_hour", sweep_rows([0.1, 0.5], PLANS))
    assert fig.axes[1].get_xlabel().splitlines()[0] == "provocation: rate per hour"
    assert "provocation: rate per hour" in fig.get_suptitle()


def long_note_rows(plans: list[str]) -> list[dict]:
    """sites.csv rows whose cell notes are long: thousands of incidents, hundreds late, in every cell."""
    return [{"plan": plan, "site": f"s{i}", "site_name": f"Site {i}", "kind": "crowd_point",
             "incidents": 123456 + i, "late": 12345 + 7 * i + j, "within_target_pooled_pct": 81.0 - i - j,
             "response_mean_min": 12.3 + i}
            for i in range(4) for j, plan in enumerate(plans)]


@pytest.mark.parametrize("lang", ["en", "id"])
def test_heat_table_is_widened_until_every_cell_note_fits_its_column(lang):
    """Long cell notes (Indonesian words, counts in the thousands) make the figure wider than its
    default until each note fits its column with room to spare, in the picture as drawn."""
    from sim.i18n import messages

    plans = [f"plan-{k}" for k in range(6)]
    fig = site_response_figure("test-scenario", True, TARGET_MIN, plans, long_note_rows(plans), m=messages(lang))
    default_in = 3.5 + 2.1 * len(plans)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    column_px = ax.get_window_extent(renderer).width / len(plans)
    notes = [t for t in ax.texts if t.get_text().startswith("\n")]
    assert len(notes) == 4 * len(plans)
    widest_px = max(note.get_window_extent(renderer).width for note in notes)
    assert fig.get_size_inches()[0] > default_in, "long notes did not widen the figure"
    assert widest_px <= column_px, f"a cell note ({widest_px:.0f} px) is wider than its column ({column_px:.0f} px)"


"""GIS layers of a coverage map: read back with geopandas, checked against the travel times the map uses."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.config import load_scenario
from sim.errors import InputError
from sim.model import build_world
from sim.network import NetworkSpec
from sim.network.roads import load_network
from sim.viz.coverage import BOTH, GAINED, LOST, coverage_change, drawn_edges, plan_coverage
from sim.viz.map_results import SiteResult
from sim.viz.maps import write_map

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
PLANS = ["all-at-hq", "mixed"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATROLSIM_CACHE", str(tmp_path_factory.mktemp("patrolsim-cache")))
        scenario = load_scenario(SCENARIO)
        yield scenario, build_world(scenario, load_network(NetworkSpec("demo")))


def hand_results(scenario) -> dict:
    """A small hand-written sites table: tanggul misses the target in both plans, one site has no incidents."""
    results = {}
    for k, plan in enumerate(PLANS):
        rows = {}
        for i, site in enumerate(scenario.sites[:4]):
            rows[site.id] = SiteResult(site.id, 10 + i, 5.0 + i, 9.0 + i, 95.0 - k, 3.0)
        rows["tanggul"] = SiteResult("tanggul", 28, 30.0, 38.9, 4.0 + k, 5.0)
        rows["ambulu"] = SiteResult("ambulu", 0, np.nan, np.nan, np.nan, np.nan)
        results[plan] = rows
    return results


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_gis_file_reads_back_with_the_maps_travel_times(demo, tmp_path, suffix):
    import geopandas

    scenario, world = demo
    network = world.network
    out = tmp_path / f"coverage{suffix}"
    results = hand_results(scenario)
    write_map(scenario, world, PLANS, out, (5.0, 10.0, 15.0, 20.0), results=results)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]   # no temporary file left

    if suffix == ".gpkg":
        roads = geopandas.read_file(out, layer="roads")
        sites = geopandas.read_file(out, layer="sites")
    else:
        both = geopandas.read_file(out)
        roads, sites = both[both["layer"] == "roads"], both[both["layer"] == "sites"]
    for frame in (roads, sites):
        assert frame.crs.to_epsg() == 4326
    drawn = drawn_edges(network)
    assert len(roads) == len(drawn) and set(roads.geom_type) == {"LineString"}
    assert len(sites) == len(scenario.sites) and set(sites.geom_type) == {"Point"}

    target = scenario.target_response_min
    times = {plan: plan_coverage(scenario, world, plan).time_min for plan in PLANS}
    roads = roads.sort_values("edge")
    edges = roads["edge"].to_numpy(dtype=np.int64)
    assert (edges == np.sort(drawn)).all()
    tails, heads = network.edge_tails[edges], network.indices[edges]
    for plan in PLANS:
        later = np.maximum(times[plan][tails], times[plan][heads])
        assert roads[f"minutes_{plan}"].to_numpy(dtype=float) == pytest.approx(later, abs=0.006)
        assert (roads[f"within_target_{plan}"].to_numpy() == (later <= target)).all()
        site_times = [times[plan][world.site_node[s]] for s in sites["site"]]
        assert sites[f"minutes_{plan}"].to_numpy(dtype=float) == pytest.approx(site_times, abs=0.006)
    # Geometry: a road runs from its tail node to its head node, in degrees.
    first = roads.iloc[0]
    assert first.geometry.coords[0] == pytest.approx((network.lon[tails[0]], network.lat[tails[0]]))
    # The difference column counts what coverage_change counts.
    change = coverage_change(network, times[PLANS[0]], times[PLANS[1]], target)[edges]
    counts = roads["change"].value_counts()
    assert counts.get("gained", 0) == (change == GAINED).sum() > 0
    assert counts.get("lost", 0) == (change == LOST).sum()
    assert counts.get("both", 0) == (change == BOTH).sum()
    # Results per plan, as given; a site without incidents has empty figures.
    tanggul = sites[sites["site"] == "tanggul"].iloc[0]
    assert tanggul["within_target_pct_mixed"] == pytest.approx(5.0)
    assert tanggul["misses_target_mixed"] == 1 and tanggul["incidents_all-at-hq"] == 28
    ambulu = sites[sites["site"] == "ambulu"].iloc[0]
    assert np.isnan(ambulu["within_target_pct_mixed"]) and ambulu["misses_target_mixed"] == 0
    assert set(sites["kind"]) == {s.kind for s in scenario.sites}


def test_gis_without_results_has_no_result_columns(demo, tmp_path):
    import geopandas

    scenario, world = demo
    out = tmp_path / "one.gpkg"
    write_map(scenario, world, ["mixed"], out, (5.0, 10.0, 15.0, 20.0))
    sites = geopandas.read_file(out, layer="sites")
    roads = geopandas.read_file(out, layer="roads")
    assert "minutes_mixed" in sites.columns and not any(c.startswith("within_target_pct") for c in sites.columns)
    assert "change" not in roads.columns


def test_results_lacking_a_plan_are_refused_before_anything_is_written(demo, tmp_path):
    scenario, world = demo
    results = {"mixed": hand_results(scenario)["mixed"]}
    with pytest.raises(InputError, match="no rows for plan 'all-at-hq'"):
        write_map(scenario, world, PLANS, tmp_path / "x.gpkg", (5.0, 10.0, 15.0, 20.0), results=results)
    with pytest.raises(InputError, match=r"\.png or \.html"):
        write_map(scenario, world, PLANS, tmp_path / "x.shp", (5.0, 10.0, 15.0, 20.0))
    assert list(tmp_path.iterdir()) == []

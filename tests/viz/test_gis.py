"""GIS layers of a coverage map: read back with geopandas, checked against the travel times the map uses."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.errors import InputError
from sim.viz.coverage import BOTH, GAINED, LOST, coverage_change, drawn_edges, plan_coverage
from sim.viz.map_results import SiteResult
from sim.viz.maps import write_map

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
PLANS = ["all-at-hq", "mixed"]


@pytest.fixture(scope="module")
def demo(demo_world):
    return demo_world


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


def read_layers(out: Path) -> dict:
    """Every layer of a written GIS file by name (a GeoJSON file's features told apart by ``layer``)."""
    import geopandas
    import pyogrio

    if out.suffix == ".gpkg":
        return {name: geopandas.read_file(out, layer=name) for name, _ in pyogrio.list_layers(out)}
    both = geopandas.read_file(out)
    return {name: both[both["layer"] == name] for name in dict.fromkeys(both["layer"])}


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_gis_file_reads_back_with_the_maps_travel_times(demo, tmp_path, suffix):
    scenario, world = demo
    network = world.network
    out = tmp_path / f"coverage{suffix}"
    results = hand_results(scenario)
    write_map(scenario, world, PLANS, out, (5.0, 10.0, 15.0, 20.0), results=results)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]   # no temporary file left

    layers = read_layers(out)
    roads, sites = layers["roads"], layers["sites"]
    for frame in layers.values():
        assert frame.crs.to_epsg() == 4326
    drawn = drawn_edges(network)
    # One row per plan and feature, told apart by a plain ``plan`` column (no plan names in column names).
    assert sorted(roads["plan"].value_counts().items()) == sorted((plan, len(drawn)) for plan in PLANS)
    assert sorted(sites["plan"].value_counts().items()) == sorted((plan, len(scenario.sites)) for plan in PLANS)
    assert set(roads.geom_type) == {"LineString"} and set(sites.geom_type) == {"Point"}
    assert not [c for layer in layers.values() for c in layer.columns if any(p in c for p in PLANS)]

    target = scenario.target_response_min
    times = {plan: plan_coverage(scenario, world, plan).time_min for plan in PLANS}
    for plan in PLANS:
        mine = roads[roads["plan"] == plan].sort_values("edge")
        edges = mine["edge"].to_numpy(dtype=np.int64)
        assert (edges == np.sort(drawn)).all()
        tails, heads = network.edge_tails[edges], network.indices[edges]
        later = np.maximum(times[plan][tails], times[plan][heads])
        assert mine["drive_min"].to_numpy(dtype=float) == pytest.approx(later, abs=0.006)
        assert (mine["within_target_drive"].to_numpy() == (later <= target)).all()
        # Geometry: a road runs from its tail node to its head node, in degrees.
        assert mine.iloc[0].geometry.coords[0] == pytest.approx((network.lon[tails[0]], network.lat[tails[0]]))
        here = sites[sites["plan"] == plan]
        site_times = [times[plan][world.site_node[s]] for s in here["site"]]
        assert here["drive_min"].to_numpy(dtype=float) == pytest.approx(site_times, abs=0.006)
    # The difference layer counts what coverage_change counts.
    difference = layers["difference"].sort_values("edge")
    change = coverage_change(network, times[PLANS[0]], times[PLANS[1]], target)[np.sort(drawn)]
    counts = difference["change"].value_counts()
    assert counts.get("gained", 0) == (change == GAINED).sum() > 0
    assert counts.get("lost", 0) == (change == LOST).sum()
    assert counts.get("both", 0) == (change == BOTH).sum()
    assert set(difference["first_plan"]) == {PLANS[0]} and set(difference["second_plan"]) == {PLANS[1]}
    # Results per plan, as given; a site without incidents has empty figures.
    tanggul = sites[(sites["site"] == "tanggul") & (sites["plan"] == "mixed")].iloc[0]
    assert tanggul["share_in_target"] == pytest.approx(5.0)
    assert tanggul["misses_target"] == 1 and tanggul["incidents"] == 28 and tanggul["kecamatan"] == "Tanggul"
    ambulu = sites[(sites["site"] == "ambulu") & (sites["plan"] == "mixed")].iloc[0]
    assert np.isnan(ambulu["share_in_target"]) and ambulu["misses_target"] == 0
    assert set(sites["kind"]) == {s.kind for s in scenario.sites}


def test_gis_has_the_plans_posts_bases_routes_and_areas(demo, tmp_path):
    """Layers a planner needs beside roads and sites: where each plan's vehicles stand and are based,
    its circuits along the roads, its random-patrol points, and the kecamatan cells."""
    from sim.viz.coverage import plan_layer
    from sim.viz.gis import LAYERS

    scenario, world = demo
    out = tmp_path / "plans.gpkg"
    write_map(scenario, world, PLANS, out, (5.0, 10.0, 15.0, 20.0))
    layers = read_layers(out)
    assert list(layers) == list(LAYERS)   # every layer, the difference last (two plans)
    for name, (geometry, columns) in LAYERS.items():
        assert set(columns) <= set(layers[name].columns), name
        assert set(layers[name].geom_type) <= {geometry}, name
    for plan in PLANS:
        layer = plan_layer(scenario, world, plan)
        posts = layers["posts"][layers["posts"]["plan"] == plan]
        assert dict(zip(posts["site"], posts["vehicles"])) == layer.standing
        bases = layers["bases"][layers["bases"]["plan"] == plan]
        assert bases["vehicles"].sum() == sum(group.count for group in scenario.plan(plan).units)
        routes = layers["routes"][layers["routes"]["plan"] == plan]
        assert len(routes) == len(layer.circuits)
        for (_, route), path in zip(routes.iterrows(), layer.circuits):
            assert len(route.geometry.coords) == len(path) and route["length_km"] > 0
        pools = layers["patrol_points"][layers["patrol_points"]["plan"] == plan]
        assert list(pools["points"]) == [len(pool) for pool in layer.pools]
    assert len(layers["routes"]) > 0 and len(layers["patrol_points"]) > 0   # the mixed plan has both
    areas = layers["areas"]
    assert set(areas.geom_type) == {"Polygon"} and len(areas) == 2 * areas["kecamatan"].nunique()
    by_area = areas[areas["plan"] == "mixed"].set_index("kecamatan")["incident_sites"]
    assert by_area.sum() == len([s for s in scenario.sites if s.id in {x for d in scenario.disturbances
                                                                           for x in d.site_weights}])


@pytest.mark.slow
def test_gis_without_results_has_no_result_columns(demo, tmp_path):
    import geopandas

    scenario, world = demo
    out = tmp_path / "one.gpkg"
    write_map(scenario, world, ["mixed"], out, (5.0, 10.0, 15.0, 20.0))
    sites = geopandas.read_file(out, layer="sites")
    assert "drive_min" in sites.columns and "share_in_target" not in sites.columns
    assert "difference" not in read_layers(out)


def test_results_lacking_a_plan_are_refused_before_anything_is_written(demo, tmp_path):
    scenario, world = demo
    results = {"mixed": hand_results(scenario)["mixed"]}
    with pytest.raises(InputError, match="no rows for plan 'all-at-hq'"):
        write_map(scenario, world, PLANS, tmp_path / "x.gpkg", (5.0, 10.0, 15.0, 20.0), results=results)
    with pytest.raises(InputError, match=r"\.png or \.html"):
        write_map(scenario, world, PLANS, tmp_path / "x.shp", (5.0, 10.0, 15.0, 20.0))
    assert list(tmp_path.iterdir()) == []

"""Small scenarios written in code, for tests: YAML through the real loader."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import networkx as nx
import numpy as np
import yaml

from sim.config import load_scenario


def digraph_from_network(network) -> nx.DiGraph:
    """The network as a networkx DiGraph with edge attribute ``travel_time`` (s)."""
    tails = np.repeat(np.arange(network.n_nodes), np.diff(network.indptr))
    graph = nx.DiGraph()
    graph.add_weighted_edges_from(
        zip(tails.tolist(), network.indices.tolist(), network.travel_time_s.tolist()), weight="travel_time"
    )
    return graph


def scenario_file(tmp_path, data: dict):
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_scenario(path)


DEFAULT_SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "jember_pilkada_2024.yaml"


def edited_scenario(tmp_path: Path, edit: Callable[[dict], object], source: Path = DEFAULT_SCENARIO) -> Path:
    """``source``'s data changed in place by ``edit``, written to ``tmp_path/edited.yaml``; its path."""
    data = yaml.safe_load(source.read_text())
    edit(data)
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def site_at(network, node: int, site_id: str, kind: str = "crowd_point") -> dict:
    return {"id": site_id, "name": site_id, "kind": kind, "lat": float(network.lat[node]),
            "lon": float(network.lon[node]), "approximate": False}


def base_scenario(sites, disturbances, units, hours, reps, warmup=0.0, **extra) -> dict:
    return {
        "name": "test",
        "network": {"source": "demo"},
        "clock": {"start": "2024-10-23T00:00", "duration_hours": hours, "warmup_hours": warmup},
        "replications": reps,
        "seed": 7,
        "target_response_min": 15,
        "sites": sites,
        "disturbances": disturbances,
        "unit_types": {"car": {"agency": "Polri", "speed_factor": 1.0},
                       "slow_car": {"agency": "Satpol PP", "speed_factor": 0.8}},
        "plans": [{"name": "plan", "units": units}],
        "dispatch": {"policy": "nearest", "queue": "fifo", "after_service": "resume"},
        **extra,
    }

"""Process state: the environment is read in one module (sim.config.settings), bounded; OSMnx's
global settings are put back after every change; no module reads another's private OSMnx helpers."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sim.config.settings import (CACHE_ENV, DEFAULT_TREE_CACHE_MB, MAX_PATH_CHARS, TREE_CACHE_ENV, cache_dir,
                                 tree_cache_mb)
from sim.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
SIM = ROOT / "sim"


def test_the_tree_cache_budget_comes_from_the_environment_within_its_bounds(monkeypatch):
    monkeypatch.delenv(TREE_CACHE_ENV, raising=False)
    assert tree_cache_mb() == DEFAULT_TREE_CACHE_MB
    monkeypatch.setenv(TREE_CACHE_ENV, "64")
    assert tree_cache_mb() == 64
    for bad in ("0", "15", "1048577", "lots", "1.5", "9" * 5000):
        monkeypatch.setenv(TREE_CACHE_ENV, bad)
        with pytest.raises(InputError, match=TREE_CACHE_ENV) as caught:
            tree_cache_mb()
        assert len(str(caught.value)) < 200, "a huge value is cut, not printed whole"


def test_a_bad_tree_cache_budget_is_one_line_and_exit_2(cache, tmp_path, monkeypatch, capsys):
    from sim.cli import main

    monkeypatch.setenv(TREE_CACHE_ENV, "lots")
    code = main(["run", str(ROOT / "scenarios" / "validation_posts.yaml"), "--reps", "1", "--hours", "30",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith(f"error: {TREE_CACHE_ENV}=lots")]


def test_the_cache_folder_comes_from_the_environment_within_its_bound(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "here"))
    assert cache_dir() == tmp_path / "here"
    monkeypatch.setenv(CACHE_ENV, "")
    assert cache_dir() == Path.home() / ".cache" / "patrolsim"
    monkeypatch.setenv(CACHE_ENV, "x" * (MAX_PATH_CHARS + 1))
    with pytest.raises(InputError, match=f"{CACHE_ENV}=.*at most 4,096 characters"):
        cache_dir()


def _reads_environment(tree: ast.AST) -> bool:
    return any(isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")
               or isinstance(node, ast.alias) and node.name in ("environ", "getenv") for node in ast.walk(tree))


def test_only_the_settings_module_reads_the_environment():
    readers = {path.relative_to(ROOT).as_posix() for path in SIM.rglob("*.py")
               if _reads_environment(ast.parse(path.read_text(encoding="utf-8")))}
    assert readers == {"sim/config/settings.py"}, "environment settings are read in sim.config.settings only"


def test_every_change_of_osmnx_settings_is_put_back():
    """``ox.settings.X = ...`` appears only inside ``osmnx_settings``, which restores it; the geocoder
    command uses that helper (a public name), not OSMnx's or our private ones."""
    setters = []
    for path in SIM.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
                if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and "settings" in ast.unparse(target.value):
                    setters.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "setattr" \
                    and "settings" in ast.unparse(node.args[0]):
                setters.append(f"{path.relative_to(ROOT)}:{node.lineno} (setattr)")
    osm = (SIM / "network" / "osm.py").read_text()
    helper = osm[osm.index("def osmnx_settings"):osm.index("# ----", osm.index("def osmnx_settings"))]
    assert "finally:" in helper
    assert all(where.startswith("sim/network/osm.py") for where in setters), setters
    assert len(setters) == 2, f"only osmnx_settings sets OSMnx's settings (and puts them back): {setters}"
    sites = (SIM / "cli" / "sites.py").read_text()
    assert "from sim.network.osm import insufficient_response_error, osmnx_settings" in sites


def test_osmnx_settings_are_put_back_when_the_block_fails():
    import osmnx as ox

    from sim.network.osm import osmnx_settings

    before = ox.settings.requests_timeout
    with pytest.raises(RuntimeError):
        with osmnx_settings(requests_timeout=1):
            assert ox.settings.requests_timeout == 1
            raise RuntimeError("a failed download")
    assert ox.settings.requests_timeout == before

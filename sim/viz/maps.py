"""Coverage maps: ``write_map`` checks what it is asked for, then writes a PNG or an HTML page.

What the map shows is computed in ``sim.viz.coverage``; ``sim.viz.map_png`` and
``sim.viz.map_html`` draw it. The checks raise InputError (one readable line, exit 2 on the
command line) before any work is done, so a bad request never leaves a half-written file, and an
existing file is replaced only if patrolsim wrote it as a map of the same scenario and plans
(``sim.files.check_output``), or with ``replace``. Messages name the arguments as ``names`` says
(the command line passes its flags).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from sim.config import choose_plans
from sim.errors import InputError
from sim.files import check_output, output_stamp, write_output
from sim.i18n import DEFAULT_LANGUAGE, messages
from sim.model.world import World
from sim.viz.gis import write_gis
from sim.viz.map_areas import AreaResult
from sim.viz.map_html import draw_map_html
from sim.viz.map_png import draw_map_png
from sim.viz.map_results import SiteResult, check_sites
from sim.viz.map_style import MapResult

FORMATS = (".png", ".html", ".geojson", ".gpkg")
#: how write_map's arguments are named in its messages; the command line passes its flags
NAMES = {"out": "out_path", "bands": "bands_min", "plans": "plans", "compare": "second plan", "results": "results",
         "replace": "replace=True"}


def check_out(out: str | Path, what: str = NAMES["out"]) -> str:
    """The map's format (its file suffix, lower case); InputError unless .png, .html, .geojson or .gpkg."""
    suffix = Path(out).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"{what} {str(out)!r}: the map is written as .png or .html (or, for GIS, .geojson or .gpkg), "
                         f"not {suffix or 'no extension'!r}")
    return suffix


def map_stamp(scenario, plans: Sequence[str]) -> str:
    """The mark of a map file (sim.files.output_stamp): a map of this scenario and these plans."""
    return output_stamp("map", scenario.name, *plans)


def _bands_ok(bands: Sequence[float]) -> bool:
    return bool(bands) and all(math.isfinite(b) and b > 0 for b in bands) and list(bands) == sorted(set(bands))


def parse_bands(text: str, what: str = NAMES["bands"]) -> tuple[float, ...]:
    """``"5,10,15,20"`` -> (5.0, 10.0, 15.0, 20.0); InputError unless positive and increasing."""
    try:
        bands = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise InputError(f"{what} {text!r}: give minutes separated by commas, e.g. 5,10,15,20") from None
    check_bands(bands, text, what)
    return bands


def target_bands(target_min: float) -> tuple[float, ...]:
    """Default bands that follow the target: a third of it, two thirds, the target, four thirds
    (5, 10, 15, 20 for 15 minutes; 1, 2, 3, 4 for 3), so the target is always a band edge."""
    if target_min >= 0.3:
        return tuple(round(target_min * k / 3, 1) for k in (1, 2, 3, 4))
    return tuple(float(f"{target_min * k / 3:.2g}") for k in (1, 2, 3, 4))  # tenths would all be 0


def check_bands(bands_min: Sequence[float], text: str | None = None, what: str = NAMES["bands"]) -> None:
    """InputError unless the band limits are positive and increasing (``text``: as the user wrote them)."""
    if not _bands_ok(bands_min):
        text = text if text is not None else ",".join(f"{b:g}" for b in bands_min)
        raise InputError(f"{what} {text!r}: minutes must be positive and increasing, e.g. 5,10,15,20")


def check_plans(scenario, plans: Sequence[str], what: str = NAMES["compare"], plans_what: str = NAMES["plans"]) -> None:
    """InputError unless ``plans`` is one plan of the scenario, or two different ones."""
    if not 1 <= len(plans) <= 2:
        raise InputError(f"a map shows one plan, or two side by side; got {len(plans)}")
    for name in plans:
        choose_plans(scenario, [name], plans_what)   # InputError with a suggestion for an unknown name
    if len(set(plans)) != len(plans):
        raise InputError(f"{what} '{plans[1]}' is the first plan itself; name another plan")


def check_results(scenario, plans: Sequence[str], results: Mapping[str, Mapping[str, SiteResult]],
                  what: str = NAMES["results"]) -> None:
    """InputError unless ``results`` has rows for every plan shown, and only for the scenario's sites."""
    site_ids = [s.id for s in scenario.sites]
    for plan in plans:
        try:
            check_sites(results.get(plan, {}), plan, site_ids)
        except ValueError as error:
            raise InputError(f"{what}: sites.csv: {error}") from None


def check_map(scenario, plans: Sequence[str], out_path: str | Path, replace: bool = False,
              names: Mapping[str, str] | None = None) -> Path:
    """``out_path`` as a Path if a map of ``plans`` may be written there (InputError if not: another
    suffix, a folder, an unknown plan, the same plan twice, a file that is not this map)."""
    names = NAMES | dict(names or {})
    check_out(out_path, names["out"])
    check_plans(scenario, plans, names["compare"], names["plans"])
    return check_output(out_path, map_stamp(scenario, plans), replace, names["out"], names["replace"])


def write_map(scenario, world: World, plans: Sequence[str], out_path: str | Path,
              bands_min: Sequence[float] = (5.0, 10.0, 15.0, 20.0),
              results: Mapping[str, Mapping[str, SiteResult]] | None = None,
              areas: Mapping[str, Mapping[str, AreaResult]] | None = None,
              summary: Mapping[str, Mapping] | None = None, *, replace: bool = False,
              names: Mapping[str, str] | None = None, lang: str = DEFAULT_LANGUAGE) -> MapResult:
    """Write the coverage map of one plan, or two side by side, as ``out_path``: a PNG, an HTML
    page, or GIS layers (.geojson, .gpkg; see ``sim.viz.gis``). ``lang`` ("en", "id"): the language
    of the PNG's and the page's words (GIS layers are data, in English).

    ``bands_min`` are the upper limits of the shading bands, minutes; ``results`` (plan -> site
    id -> SiteResult, from a run's sites.csv) adds the simulated share within target per site;
    ``areas`` (plan -> kecamatan -> AreaResult, from its areas.csv) the kecamatan circles' colours
    (PNG, HTML; and the GIS ``areas`` layer); ``summary`` (plan -> its summary.csv row) the simulated
    share beside the drive-time figures.
    InputError (before any work) for another suffix, bad bands, an unknown plan, the same plan
    twice, results lacking a plan, or a file at ``out_path`` that patrolsim did not write as a map
    of this scenario and these plans (unless ``replace``). ``names``: how the caller's user names
    the arguments (keys of NAMES).
    """
    names = NAMES | dict(names or {})
    m = messages(lang)
    out_path = check_map(scenario, plans, out_path, replace, names)
    check_bands(bands_min, what=names["bands"])
    if results is not None:
        check_results(scenario, plans, results, names["results"])
    suffix = out_path.suffix.lower()

    def draw(tmp: Path) -> MapResult:
        if suffix in (".png", ".html"):
            drawer = draw_map_png if suffix == ".png" else draw_map_html
            return drawer(scenario, world, list(plans), tmp, tuple(bands_min), results=results, areas=areas,
                          summary=summary, m=m)
        return write_gis(scenario, world, list(plans), tmp, tuple(bands_min), results=results, areas=areas,
                         summary=summary)

    drawn: list[MapResult] = []
    write_output(out_path, map_stamp(scenario, plans), lambda tmp: drawn.append(draw(tmp)))
    return dataclasses.replace(drawn[0], path=out_path)

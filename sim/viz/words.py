"""Words the figures, maps and pages share, from the message catalogue: the road network's name,
the note every output on a synthetic network carries, a plan's label, site kinds, the names of
generated sites, the verdicts of the result files."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sim.config.site_sets import synthetic_name_parts
from sim.i18n import Messages, messages
from sim.network.roads import DEMO_LABEL


def network_words(m: Messages, label: str, demo: bool) -> str:
    """The road network in words: the demo network's name in the language of ``m``; any other
    network (a place, a file) by its recorded label."""
    return m("common.network.demo") if demo and label == DEMO_LABEL else label


def synthetic_note(m: Messages) -> str:
    """``synthetic road network, not real roads: it shows the method, not the place``."""
    return m("common.synthetic")


def synthetic_badge(m: Messages) -> str:
    """The synthetic note's first clause: short enough for the corner badge of a map."""
    return m("common.synthetic.badge")


def plan_label(plans: Sequence[str], plan: str, m: Messages) -> str:
    """The plan name; the first plan is the one the others are compared against."""
    return m("common.plan.reference", plan=plan) if plans and plan == plans[0] else plan


def verdict_words(word: Any, m: Messages) -> str:
    """A verdict of the result files ("better", "no clear difference", ...) in the language of
    ``m``; a text it does not know, as it is."""
    key = {"better": "better", "worse": "worse", "no clear difference": "unclear", "reference": "reference",
           "not enough replications": "notEnough", "no counted incidents": "noIncidents",
           "1 replication: no interval": "oneReplication"}.get(str(word))
    return str(word) if key is None else m(f"common.verdict.{key}")


def kind_words(kind: str, m: Messages, unknown: str | None = None) -> str:
    """A site kind in words (``map.kind.<kind>``); a kind the catalogue does not name: ``unknown``,
    else "other site"."""
    if m.has(f"map.kind.{kind}"):
        return m(f"map.kind.{kind}")
    return m("map.kind.other") if unknown is None else unknown


def site_words(name: str, m: Messages) -> str:
    """A site's name as shown: a generated site's (``tps-0184: synthetic polling station (Ambulu)``)
    in the language of ``m``; any other as the scenario names it."""
    parts = synthetic_name_parts(name)
    if parts is None:
        return name
    site_id, label, kecamatan = parts
    return m("common.site.synthetic", id=site_id, kind=kind_words(label.replace(" ", "_"), m, unknown=label),
             area=kecamatan)


#: a scenario path's collections, whose items are named in words (``figure.param.item.<collection>``)
_COLLECTIONS = ("disturbances", "unit_types", "plans", "sites", "events", "site_sets", "units")
#: the scenario keys a sweep varies that the catalogue names in words (``figure.param.key.<key>``)
_KEYS = ("rate_per_hour", "count", "speed_factor", "target_response_min", "duration_hours", "warmup_hours",
         "replications", "priority", "units_required", "after_min", "multiplier", "policy", "discipline")


def param_words(path: str, m: Messages | None = None) -> str:
    """What a swept scenario path varies, in words: ``disturbances.provocation.rate_per_hour`` ->
    "provocation: rate per hour"; ``plans.mixed.units[0].count`` -> "plan mixed, unit group 1: count"."""
    m = m or messages()
    parts = [part for piece in path.split(".") for part in piece.replace("]", "").split("[") if part]
    last = parts[-1]
    what, owner, pending = m(f"figure.param.key.{last}") if last in _KEYS else last.replace("_", " "), [], None
    for part in parts[:-1]:
        if part in _COLLECTIONS:
            pending = part
        elif pending is not None:
            owner.append(m(f"figure.param.item.{pending}", name=str(int(part) + 1) if part.isdigit() else part))
            pending = None
        else:
            owner.append(part.replace("_", " "))
    return f"{', '.join(owner)}: {what}" if owner else what

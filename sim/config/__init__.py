"""The scenario: read (YAML file or data), override, validate; the frozen ``Scenario`` the package reads.

Modules, in the order data flows: ``yaml_reader`` (YAML with lines) -> ``overrides`` (``--set``)
-> ``schema`` (the pydantic models of the parts) and ``scenario`` (the validated scenario, with the
rules between parts of ``checks``) -> ``load`` (one pass, every problem reported at once via ``problems``).
"""
from sim.config.load import choose_plans, load_scenario, network_spec, parse_override, scenario_hash, use_plugins
from sim.config.scenario import Scenario
from sim.config.schema import Plan

__all__ = ["Plan", "Scenario", "choose_plans", "load_scenario", "network_spec", "parse_override", "scenario_hash",
           "use_plugins"]

"""The scenario: read (YAML file or data), override, validate; the frozen ``Scenario`` the package reads.

Modules, in the order data flows: ``yaml_reader`` (YAML with lines) -> ``overrides`` (``--set``)
-> ``schema`` (the pydantic models, which are also the validated scenario) and ``checks`` (rules
between parts) -> ``load`` (both passes, every problem reported at once via ``problems``).
"""
from sim.config.load import choose_plans, load_scenario, network_spec, parse_override, scenario_hash, use_plugins
from sim.config.schema import Plan, Scenario

__all__ = ["Plan", "Scenario", "choose_plans", "load_scenario", "network_spec", "parse_override", "scenario_hash",
           "use_plugins"]

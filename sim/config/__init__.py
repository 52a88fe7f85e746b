"""The scenario file: read, validate, override; the validated, frozen ``Scenario``."""
from sim.config.scenario import (
    Scenario,
    choose_plans,
    load_scenario,
    network_spec,
    parse_override,
    scenario_hash,
)

__all__ = ["Scenario", "choose_plans", "load_scenario", "network_spec", "parse_override", "scenario_hash"]

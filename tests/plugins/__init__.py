"""Tests of sim.plugins."""

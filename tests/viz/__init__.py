"""Tests of sim.viz."""

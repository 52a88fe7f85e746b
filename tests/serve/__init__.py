"""Tests of sim.serve."""

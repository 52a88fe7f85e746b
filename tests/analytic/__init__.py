"""Tests of sim.analytic."""

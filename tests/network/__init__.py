"""Tests of sim.network."""

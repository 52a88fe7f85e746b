"""Tests of sim.i18n."""

"""The tests of patrolsim, laid out like the package; shared helpers and fixtures live here."""

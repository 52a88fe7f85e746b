"""patrolsim: discrete-event simulation of patrol coverage over a road network."""

__version__ = "0.1.0"

"""The planning page: a local web application to move patrol units on the map and see the simulated answer.

``python run_sim.py serve [SCENARIO]`` starts it (``sim.cli.serve``); ``sim.serve.app`` is the
application (Starlette, run by uvicorn), ``sim.serve.workers`` the warm worker processes that
simulate, ``sim.serve.engine`` the studies they run, ``static/`` the page (Leaflet as package data).
"""

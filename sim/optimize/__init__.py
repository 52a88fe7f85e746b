"""The deployment optimiser (``python run_sim.py optimize``): where should the cars stand?

Scenario -> demand per site (``demand``) and candidate posts (``candidates``) -> travel minutes
(``travel``) -> an ``Instance`` (``metrics``) -> an integer program (``programs``, ``pmedian``)
-> units of the fleet at the posts (``placement``) -> optionally moves checked by simulation
(``refine``) -> the proposal simulated against the scenario's plans (``verify``) -> files
(``outputs``, ``curve``). ``request`` checks the flags, ``command`` runs the whole.
"""

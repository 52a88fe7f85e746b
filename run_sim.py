"""Entry point: ``python run_sim.py [command] ...`` (see ``sim.cli``)."""
import sys

from sim.cli import main

if __name__ == "__main__":
    sys.exit(main())

"""The plug-in points: patrol modes, distributions, dispatch policies and queue disciplines (each a
``Registry``), and the loading of plug-ins that live outside the package (``sim.plugins.loading``)."""

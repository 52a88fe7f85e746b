"""Experiments: the Python API (``Study``, ``Results``), executors, part files, statistics,
tables, and the command line's ``run`` and ``sweep``.

    options     RunOptions (what a run is asked for, its defaults), OptionNames (how the user names them)
    cache       StudyCache: the one cache of road networks and worlds
    api         Study (a validated scenario on a network, its variants, ``run``)
    results     Results (rows, DataFrames, the terminal table, ``to_dir``: the result files)
    saved       SavedResults (``Results.from_dir``): a result folder read back, every file checked
    runner      the loop that runs plans x replications (also automatic replications), progress
    executors   in-process, local process pool, Dask
    parts       finished replications in memory or as part files (resume keys, checks)
    stats       statistics across replications, paired comparison
    tables      CSV text, the terminal table, DataFrames
    experiment  run_experiment and run_sweep, for the command line
"""

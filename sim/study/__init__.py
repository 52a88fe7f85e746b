"""Experiments: the Python API (``Study``, ``Results``), executors, part files, statistics,
tables, and the command line's ``run`` and ``sweep``.

    api         Study (a validated scenario on a network, its variants, ``run``), StudyCache
    results     Results (rows, DataFrames, the terminal table, ``to_dir``: the result files)
    runner      the loop that runs plans x replications (also ``--reps auto``), progress
    executors   in-process, local process pool, Dask; the per-process world cache
    parts       finished replications in memory or as part files (resume keys)
    stats       statistics across replications, paired comparison
    tables      CSV text, the terminal table, DataFrames
    experiment  run_experiment and run_sweep, for the command line
"""

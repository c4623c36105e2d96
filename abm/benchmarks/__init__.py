"""``abm bench``: the command that runs the benchmark suite of experiments/benchmarks/.

The suite itself (measurements, the Mesa-agent reference, the bare numpy kernel) lives in
``experiments/benchmarks/`` of the repository, beside the other experiments; this package
only finds it and adds the command (see :mod:`abm.benchmarks.commands`).
"""

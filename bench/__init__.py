"""The benchmark suite: the shop against this machine's limits and against Celery.

``python -m bench`` (or ``bin/bench``) runs every measurement with a progress
bar and writes ``docs/benchmarks.md`` with its plots in ``docs/benchmarks/``;
``--smoke`` runs tiny sizes in seconds so CI keeps the suite working.
"""

"""docs/benchmarks.md and its plots, from one run's results (``write``)."""

from .page import render, write

__all__ = ["render", "write"]

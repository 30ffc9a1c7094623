"""The benchmarks of `make bench`: one module per area, each registering functions.

A benchmark is a function taking a Context and returning {metric name: number}; it declares
its metrics with @benchmark, so the results table knows each metric's unit, target and
baseline. The runner (bench/run.py) imports every module of this package, runs each
benchmark in a fresh migrated database, and writes the results. To add one:

    from bench.benchmarks import Context, Metric, benchmark

    @benchmark(Metric("rules_sweep_persons_per_s", "persons/s", "...", target=50_000))
    def rules_sweep(ctx: Context) -> dict[str, float]:
        persons = ctx.size(full=1_000_000, quick=50_000)
        ...
        return {"rules_sweep_persons_per_s": persons / seconds}
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from urllib.parse import quote


@dataclass(frozen=True)
class Metric:
    """A number a benchmark reports.

    `baseline` names the metric this one is compared with in the same run (the table shows
    value / baseline); `target` is the figure to reach: at least it when higher is better,
    at most it otherwise.
    """

    name: str
    unit: str
    description: str
    target: float | None = None
    higher_is_better: bool = True
    baseline: str | None = None

    def meets_target(self, value: float) -> bool | None:
        if self.target is None:
            return None
        return value >= self.target if self.higher_is_better else value <= self.target


@dataclass
class Context:
    """What the runner gives a benchmark: the run's size and a way to get a new database."""

    quick: bool
    # A context manager that switches the default connection to another fresh, migrated
    # database for its block (for a baseline that must start from empty tables too).
    fresh_database: Callable[[], AbstractContextManager[None]]
    # Like fresh_database, but with the synthetic region already loaded (1,000,000 persons,
    # 50,000 in a quick run): generated once per run, then cloned for each benchmark.
    populated_database: Callable[[], AbstractContextManager[None]] | None = None
    log: Callable[[str], None] = field(default=print)

    def size(self, *, full: int, quick: int) -> int:
        return quick if self.quick else full


@dataclass(frozen=True)
class Benchmark:
    name: str
    function: Callable[[Context], dict[str, float]]
    metrics: tuple[Metric, ...]


REGISTRY: dict[str, Benchmark] = {}


def benchmark(*metrics: Metric) -> Callable:
    """Register the decorated function as a benchmark reporting `metrics`."""

    def register(function: Callable[[Context], dict[str, float]]) -> Callable:
        taken = {m.name for b in REGISTRY.values() for m in b.metrics}
        clashes = taken & {m.name for m in metrics}
        if function.__name__ in REGISTRY or clashes:
            raise ValueError(f"Benchmark {function.__name__} or metric {clashes} registered twice.")
        REGISTRY[function.__name__] = Benchmark(function.__name__, function, metrics)
        return function

    return register


def discover() -> dict[str, Benchmark]:
    """Import every module of this package, so that their benchmarks register."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return REGISTRY


def database_url() -> str:
    """The URL of the database the benchmark runs on, for the servers it starts; a socket
    directory (the embedded PostgreSQL) goes in the host percent-encoded."""
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}@{quote(db['HOST'] or '', safe='')}:{db['PORT']}/{db['NAME']}"

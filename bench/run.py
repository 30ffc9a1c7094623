"""`make bench`: run every registered benchmark, each in a fresh database, and write results.

    .venv/bin/python bench/run.py            full size; writes bench/results.json, RESULTS.md
    .venv/bin/python bench/run.py --quick    smoke-run sizes; writes to bench/work/ instead

Each benchmark runs in its own database (bench_<pid>_<n>) on the configured server, cloned
from a template migrated once for the run; all of them are dropped at the end, so demo and
test data are never touched. Absolute times vary on shared machines: compare a metric with
its baseline, measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_DIR = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", nargs="+", metavar="BENCHMARK", help="run only these")
    parser.add_argument(
        "--output",
        type=Path,
        help="folder for results.json and RESULTS.md (default bench/, or bench/work/ if quick)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    from bench.benchmarks import Context, discover

    benchmarks = discover()
    selected = args.only or list(benchmarks)
    unknown = set(selected) - set(benchmarks)
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}; known: {sorted(benchmarks)}")
    output = args.output or (BENCH_DIR / "work" if args.quick else BENCH_DIR)

    databases = Databases(prefix=f"bench_{os.getpid()}")
    metrics: dict[str, float] = {}
    failed = []
    started = time.perf_counter()
    try:
        databases.create_template()
        for name in selected:
            log(f"== {name}{' (quick)' if args.quick else ''}")
            ctx = Context(
                quick=args.quick,
                fresh_database=databases.fresh,
                populated_database=lambda: databases.populated(quick=args.quick),
                log=log,
            )
            try:
                with databases.fresh():
                    result = benchmarks[name].function(ctx)
            except Exception:
                traceback.print_exc()
                failed.append(name)
                continue
            declared = {m.name for m in benchmarks[name].metrics}
            if set(result) != declared:
                log(f"{name} returned {sorted(result)}, declared {sorted(declared)}")
                failed.append(name)
            metrics.update({k: v for k, v in result.items() if k in declared})
            for key in sorted(result):
                log(f"   {key} = {result[key]:,.2f}")
        machine = machine_info(postgres_version=databases.server_version)
    finally:
        databases.drop_all()
    declared_metrics = [m for name in selected for m in benchmarks[name].metrics]
    run = {
        "quick": args.quick,
        "benchmarks": selected,
        "failed": failed,
        "seconds": round(time.perf_counter() - started, 1),
    }
    json_path, markdown_path = write_results(
        output, machine=machine, metrics=metrics, declared=declared_metrics, run=run
    )
    log(f"Results: {json_path} and {markdown_path}")
    return 1 if failed else 0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Databases:
    """Fresh databases on the configured server for one run, all dropped at the end."""

    def __init__(self, prefix: str):
        from django.db import connection

        self.connection = connection
        self.prefix = prefix
        self.template = f"{prefix}_template"
        self.original_name = connection.settings_dict["NAME"]
        self.created: list[str] = []
        self.counter = 0
        self.server_version = ""

    def _execute(self, sql: str) -> None:
        # CREATE and DROP DATABASE cannot run in a transaction: the maintenance database.
        with self.connection._nodb_cursor() as cursor:
            cursor.execute(sql)

    def _use(self, name: str) -> None:
        self.connection.close()
        self.connection.settings_dict["NAME"] = name

    def create_template(self) -> None:
        from django.core.management import CommandError, call_command

        self._execute(f'CREATE DATABASE "{self.template}"')
        self.created.append(self.template)
        self._use(self.template)
        call_command("migrate", interactive=False, verbosity=0)
        # Every benchmark database starts with the reference data (regions, municipalities,
        # banks, subsistence minimums), as a real installation does.
        try:
            call_command("load_reference_data", verbosity=0, stdout=io.StringIO())
        except CommandError as exc:
            log(f"Reference data not loaded ({exc}); benchmarks create what they need.")
        with self.connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            self.server_version = cursor.fetchone()[0]
        self._use(self.original_name)

    def _populate(self, *, quick: bool) -> str:
        """A template holding the synthetic region, made the first time one is asked for."""
        from bench.benchmarks.population import AS_OF, REGION, SEED
        from registries.services.population import population_generate

        name = f"{self.prefix}_populated"
        if name in self.created:
            return name
        persons = 50_000 if quick else 1_000_000
        log(f"-- generating the {persons:,}-person region for the benchmarks that need it")
        self._use(self.original_name)
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        self._use(name)
        population_generate(region_code=REGION, persons=persons, seed=SEED, as_of=AS_OF)
        # Settled as autovacuum would leave it (hint bits set, visibility map, statistics): the
        # benchmarks that use it measure a working registry, not the minutes after a bulk load.
        with self.connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
        self._use(self.original_name)
        return name

    def populated(self, *, quick: bool) -> contextlib.AbstractContextManager[None]:
        return self.fresh(template=self._populate(quick=quick))

    @contextlib.contextmanager
    def fresh(self, template: str | None = None) -> Iterator[None]:
        """Switch the default connection to a new database cloned from the template."""
        self.counter += 1
        name = f"{self.prefix}_{self.counter}"
        previous = self.connection.settings_dict["NAME"]
        self._use(self.original_name)
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{template or self.template}"')
        self.created.append(name)
        self._use(name)
        try:
            yield
        finally:
            self._use(self.original_name)
            self._execute(f'DROP DATABASE IF EXISTS "{name}"')
            self.created.remove(name)
            self._use(previous)

    def drop_all(self) -> None:
        self._use(self.original_name)
        for name in reversed(self.created):
            self._execute(f'DROP DATABASE IF EXISTS "{name}"')
        self.created.clear()


def machine_info(*, postgres_version: str) -> dict[str, object]:
    """The machine the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gib = None
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024**2, 1)
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory_gib,
        "python": platform.python_version(),
        "postgres": postgres_version,
        "os": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_results(
    directory: Path,
    *,
    machine: dict[str, object],
    metrics: dict[str, float],
    declared: list,
    run: dict[str, object] | None = None,
) -> tuple[Path, Path]:
    """Write results.json and RESULTS.md into directory; return their paths.

    results.json is a flat map of metric name to number plus a "machine" entry describing
    where they were measured. Metrics of benchmarks not run this time are kept from the
    previous file, so `--only` refreshes some numbers without losing the others.
    """
    directory.mkdir(parents=True, exist_ok=True)
    json_path, markdown_path = directory / "results.json", directory / "RESULTS.md"
    previous = _previous_metrics(json_path)
    merged = previous | {name: round(value, 3) for name, value in metrics.items()}
    document: dict[str, object] = dict(sorted(merged.items()))
    document["machine"] = machine | ({"run": run} if run is not None else {})
    json_path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    markdown_path.write_text(
        results_markdown(machine=machine, metrics=metrics, declared=declared, run=run)
    )
    return json_path, markdown_path


def _previous_metrics(path: Path) -> dict[str, float]:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {
        name: value
        for name, value in document.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    }


def results_markdown(
    *,
    machine: dict[str, object],
    metrics: dict[str, float],
    declared: list,
    run: dict[str, object] | None = None,
) -> str:
    """The results as a readable table: metric, value, target, baseline, ratio."""
    run = run or {}
    lines = [
        "# Benchmark results",
        "",
        f"Measured {machine.get('date')} on {machine.get('cpu')}, {machine.get('cores')} cores, "
        f"{machine.get('memory_gib')} GiB; Python {machine.get('python')}, PostgreSQL "
        f"{machine.get('postgres')}.",
        "",
    ]
    if run.get("quick"):
        lines += ["**Quick run (smoke-test sizes): not the figures to compare with targets.**", ""]
    if run.get("failed"):
        lines += [f"**Failed: {', '.join(run['failed'])}.**", ""]
    lines += ["| metric | value | target | baseline | ratio |", "|---|---:|---:|---:|---:|"]
    for metric in declared:
        value = metrics.get(metric.name)
        if value is None:
            lines.append(f"| {metric.name} | (not measured) | | | |")
            continue
        target = ""
        if metric.target is not None:
            sign = "≥" if metric.higher_is_better else "≤"
            met = "✓" if metric.meets_target(value) else "✗"
            target = f"{sign} {_number(metric.target)} {met}"
        baseline = ratio = ""
        if metric.baseline and metrics.get(metric.baseline):
            reference = metrics[metric.baseline]
            baseline = f"{_number(reference)} ({metric.baseline})"
            ratio = f"{value / reference:.2f}"
        shown = f"{_number(value)} {metric.unit}".rstrip()
        lines.append(f"| {metric.name} | {shown} | {target} | {baseline} | {ratio} |")
    lines += ["", "## What the metrics mean", ""]
    lines += [f"- `{m.name}`{f' ({m.unit})' if m.unit else ''}: {m.description}" for m in declared]
    lines += [
        "",
        "Run `make bench` (or `.venv/bin/python bench/run.py`) to measure again; "
        "`--quick` is a smoke run that writes to bench/work/.",
        "",
    ]
    return "\n".join(lines)


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


if __name__ == "__main__":
    sys.exit(main())

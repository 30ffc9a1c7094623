"""How a batch handler works many events in one transaction for the price of fewer
statements: rows written at its end, and no savepoints while all goes well.

Deferred inserts. The timeline lines and the outbox events a batch writes as it goes are only
read after it commits. Inside `inserts_deferred()` such rows are collected and inserted
together when the block ends, one INSERT per table, still inside the transaction: the batch
commits them or rolls them back with everything else.

A row added inside a savepoint that is later rolled back must not be written. Django drops
the after-commit hooks registered inside a savepoint it rolls back; each deferred row
registers a no-op hook as its marker, and only the rows whose marker is still pending are
written. (This reads the connection's list of pending hooks, `run_on_commit`, which is how
Django itself keeps them: docs/decisions.md §4.)

Optimistic batches. A nested block takes a savepoint only to recover from a failure inside
it; in a batch of many events the savepoints were four statements in ten. Inside
`optimistic()` the blocks that ask `savepoints()` take none and let a failure they would have
handled fail the whole batch instead, and the batch is then worked again event by event, with
savepoints, where the failure is handled as always (the bus does that for batch handlers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import connection, models, transaction


class _Marker:
    """A no-op after-commit hook whose presence says its savepoint was not rolled back."""

    __slots__ = ()

    def __call__(self) -> None:
        pass


@dataclass
class _Rows:
    rows: list[tuple[models.Model, _Marker, Callable[[], None] | None]] = field(
        default_factory=list
    )


_deferred: ContextVar[_Rows | None] = ContextVar("inserts_deferred", default=None)
_optimistic: ContextVar[bool] = ContextVar("optimistic", default=False)


@contextmanager
def optimistic(enabled: bool = True) -> Iterator[None]:
    """Work the block without the savepoints `savepoints()` governs (see the module)."""
    token = _optimistic.set(enabled)
    try:
        yield
    finally:
        _optimistic.reset(token)


def savepoints() -> bool:
    """Whether a nested block takes a savepoint to recover from a failure in it; False in
    an optimistic batch, whose failure fails the batch (then it should re-raise what it
    would have handled)."""
    return not _optimistic.get()


@contextmanager
def inserts_deferred() -> Iterator[None]:
    """Insert the rows added with `insert_deferred` at the end of the block (inside a
    transaction); nested blocks leave it to the outermost."""
    if _deferred.get() is not None:
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("Deferred inserts need a transaction.")
    collected = _Rows()
    token = _deferred.set(collected)
    try:
        yield
    finally:
        _deferred.reset(token)
    _insert(collected)


def insert_deferred(row: models.Model, *, then: Callable[[], None] | None = None) -> bool:
    """Defer inserting `row` (and calling `then` after it is inserted) to the end of the
    current `inserts_deferred` block; False if there is none, for the caller to insert it."""
    collected = _deferred.get()
    if collected is None:
        return False
    marker = _Marker()
    transaction.on_commit(marker)
    collected.rows.append((row, marker, then))
    return True


def _insert(collected: _Rows) -> None:
    pending = {id(func) for _sids, func, _robust in connection.run_on_commit}
    kept = [(row, then) for row, marker, then in collected.rows if id(marker) in pending]
    by_model: dict[type[models.Model], list[models.Model]] = {}
    for row, _then in kept:
        by_model.setdefault(type(row), []).append(row)
    for model, rows in by_model.items():
        model._default_manager.bulk_create(rows)
    for _row, then in kept:
        if then is not None:
            then()

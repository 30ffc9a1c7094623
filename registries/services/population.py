"""A synthetic population of a region, realistic for Russia and bulk-loaded with COPY.

`population_generate` builds households (couples and single parents with their children,
guardians with wards, childless couples, people living alone) whose members have Russian
names with patronymics taken from the father's first name, a Rosstat-shaped age pyramid,
marriages and divorces, disabilities, pensions, salaries around the regional subsistence
minimum, deaths, SNILS and bank details, and writes them with PostgreSQL COPY.

Speed: rows are preformatted COPY text built from plain lists, never model instances. A
forked worker process builds chunk k+1 while this process streams chunk k to PostgreSQL, so
the two cores work at once: one generates, one runs the server. Person ids are taken from the
table's sequence before a chunk is built, so relations, statuses and incomes reference them
without a round trip. Each chunk is one transaction. CHECK, UNIQUE and NOT NULL constraints
apply as always; foreign keys are checked per chunk with one set-based query each instead of
one query per row where the session may do so (see _copy_chunk). Nothing is dropped,
disabled for other sessions, or rebuilt.

Reproducible: the same seed, number of persons and `as_of` give the same rows (names, dates,
SNILS, incomes...) whatever the chunk size. Across regions the same seed gives the same
people; their SNILS (numbered in the region's band), municipality, address and bank differ,
and ids and `created_at` differ from run to run. Blocks of BLOCK_SIZE persons are generated
independently, each from its own `random.Random` seeded by (seed, block number), so a change
to this module's draws changes the population: compare runs of one version.
"""

from __future__ import annotations

import bisect
import collections
import functools
import multiprocessing
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from platform_core.errors import DomainError
from platform_core.models import Municipality, Region
from platform_core.validators import (
    SNILS_CHECKED_FROM,
    SNILS_MAX_NUMBER,
    account_control_key,
    inn_legal_from_number,
    snils_from_number,
)
from registries.enums import (
    DisabilityGroup,
    IncomeKind,
    RelationBasis,
    RelationKind,
    StatusKind,
    SubsistenceGroup,
)
from registries.models import (
    Bank,
    FamilyIncome,
    FamilyMember,
    IncomeRecord,
    IncomeSeries,
    Person,
    PersonStatus,
    Relation,
    SubsistenceMinimum,
)
from registries.services import derived

__all__ = ["PopulationSummary", "population_generate", "population_person_rows", "snils_range"]

# Persons generated from one random stream; chunks are whole blocks.
BLOCK_SIZE = 10_000
DEFAULT_CHUNK_SIZE = 50_000
# Worker processes that build chunks while the main process loads one.
BUILDERS = 2

# The national per-capita subsistence minimum for 2025 (RUB a month), used when the region
# has none on file; the other groups follow the coefficients of the federal rules.
DEFAULT_SUBSISTENCE_MINIMUM = 17_733
GROUP_COEFFICIENTS = {
    SubsistenceGroup.PER_CAPITA: 1.0,
    SubsistenceGroup.WORKING_AGE: 1.09,
    SubsistenceGroup.PENSIONER: 0.86,
    SubsistenceGroup.CHILD: 0.97,
}

# SNILS numbers: every region owns a band of 10 million 9-digit numbers (region code x 10^7),
# split into 10 slots of a million chosen by seed % 10. A run numbers its persons from the
# start of its slot in generation order, so runs in different regions never collide, and runs
# in one region collide only if their seeds are equal mod 10; population_generate refuses
# such a run before writing anything, with a message naming the range.
SNILS_REGION_BAND = 10_000_000
SNILS_SEED_SLOTS = 10
SNILS_SLOT = SNILS_REGION_BAND // SNILS_SEED_SLOTS

CITY_WEIGHT = 16
# Children registered in the last NEWBORN_DAYS have no SNILS yet (about 0.5% of persons).
NEWBORN_DAYS = 200
SOURCE = "synthetic"
# Payer of pensions and Social Fund benefits: the Social Fund of Russia.
SOCIAL_FUND_INN = "7706016118"

PERSON_COLUMNS = (
    "id, snils, last_name, first_name, patronymic, birth_date, sex, death_date, citizenship, "
    "address, fias_guid, phone, email, bank_bic, bank_account, consent_proactive, "
    "notification_channels, created_at, updated_at, municipality_id, region_id"
)
RELATION_COLUMNS = "kind, basis, valid_from, valid_to, document, from_person_id, to_person_id"
STATUS_COLUMNS = (
    "person_id, kind, valid_from, valid_to, disability_group, from_childhood, source, basis"
)
INCOME_COLUMNS = "person_id, kind, month, amount, payer_inn, source"
# The derived fact tables (registries/models/derived.py), which a load with triggers off
# writes itself.
FAMILY_COLUMNS = "person_id, member_id, kind, member_birth, active"
SERIES_COLUMNS = "person_id, first_month, totals, months"
FAMILY_INCOME_COLUMNS = "person_id, period, valid, size, first_month, totals, months, child_births"


@dataclass(frozen=True)
class PopulationSummary:
    region_code: str
    seed: int
    persons: int = 0
    relations: int = 0
    statuses: int = 0
    incomes: int = 0
    deaths: int = 0
    families_with_children: int = 0
    large_families: int = 0
    guardianships: int = 0
    without_snils: int = 0
    snils_first: str | None = None
    snils_last: str | None = None
    seconds: float = 0.0

    @property
    def persons_per_second(self) -> float:
        return self.persons / self.seconds if self.seconds else 0.0


def snils_range(*, region_code: str, seed: int, persons: int) -> tuple[int, int]:
    """Return the first and last SNILS number bodies a run may use (see SNILS_REGION_BAND)."""
    region = int(region_code)
    start = max(
        region * SNILS_REGION_BAND + seed % SNILS_SEED_SLOTS * SNILS_SLOT, SNILS_CHECKED_FROM
    )
    band_end = min(region * SNILS_REGION_BAND + SNILS_REGION_BAND - 1, SNILS_MAX_NUMBER)
    end = start + max(persons, 1) - 1
    if end > band_end:
        raise DomainError(
            _(
                "%(persons)s persons do not fit the SNILS band of region %(region)s from seed "
                "%(seed)s (at most %(most)s); use a seed with a smaller last digit."
            )
            % {
                "persons": persons,
                "region": region_code,
                "seed": seed,
                "most": band_end - start + 1,
            }
        )
    return start, end


def population_generate(
    *,
    region_code: str,
    persons: int,
    seed: int,
    progress: Callable[[int], object] | None = None,
    as_of: date | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> PopulationSummary:
    """Generate and bulk-load a synthetic population of persons into a region.

    Bulk-loaded rows get no django-simple-history rows, on purpose: a synthetic load is not a
    change made by a user. `as_of` (default today) is the date the population is seen at:
    ages, deaths and the last twelve months of income are counted back from it. `progress`
    is called with the number of persons of each chunk once it is committed.

    Raises DomainError if the region does not exist, the count is negative, or the SNILS
    range of this region and seed is already in use (a run with the same seed % 10).
    """
    started = time.perf_counter()
    if persons < 0:
        raise DomainError(_("The number of persons cannot be negative."), field="persons")
    region = Region.objects.filter(pk=region_code).first()
    if region is None:
        raise DomainError(
            _(
                "Region '%(region)s' does not exist: load the regions first "
                "(manage.py load_reference_data)."
            )
            % {"region": region_code},
            field="region_code",
        )
    if persons == 0:
        return PopulationSummary(region_code=region_code, seed=seed)
    as_of = as_of or timezone.localdate()
    start, end = snils_range(region_code=region_code, seed=seed, persons=persons)
    _refuse_used_snils(region_code=region_code, seed=seed, start=start, end=end)
    plan = _plan(region=region, seed=seed, as_of=as_of, snils_start=start)

    totals = _Counts()
    in_bulk = _may_skip_reference_triggers()
    try:
        for payload in _payloads(plan, _chunks(persons=persons, chunk_size=chunk_size)):
            with transaction.atomic():
                _copy_chunk(payload, plan=plan, check_references_in_bulk=in_bulk)
            totals.add(payload.counts)
            if progress:
                progress(payload.counts.persons)
    except IntegrityError as exc:
        if "person_snils_unique" in str(exc):
            raise DomainError(
                _(
                    "SNILS numbers %(first)s..%(last)s were taken while this load ran "
                    "(another load with the same last digit of the seed?)."
                )
                % {"first": snils_from_number(start), "last": snils_from_number(end)},
                code="snils_taken",
            ) from exc
        raise
    # Fresh statistics, so the planner knows the tables grew by a region (set-based rule
    # queries pick hash joins only when it does).
    with connection.cursor() as cursor:
        for model in (
            Person,
            Relation,
            PersonStatus,
            IncomeRecord,
            FamilyMember,
            IncomeSeries,
            FamilyIncome,
        ):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    return PopulationSummary(
        region_code=region_code,
        seed=seed,
        persons=totals.persons,
        relations=totals.relations,
        statuses=totals.statuses,
        incomes=totals.incomes,
        deaths=totals.deaths,
        families_with_children=totals.families,
        large_families=totals.large_families,
        guardianships=totals.guardianships,
        without_snils=totals.without_snils,
        snils_first=snils_from_number(start),
        snils_last=snils_from_number(end),
        seconds=time.perf_counter() - started,
    )


def population_person_rows(
    *, region_code: str, persons: int, seed: int, as_of: date
) -> Iterator[bytes]:
    """Yield, chunk by chunk, the person rows population_generate would load, as COPY text
    for PERSON_COLUMNS, without loading them (the benchmark's raw COPY baseline).

    Person ids are taken from the sequence as for a load. Raises DomainError if the region
    does not exist.
    """
    region = Region.objects.filter(pk=region_code).first()
    if region is None:
        raise DomainError(
            _("Region '%(region)s' does not exist.") % {"region": region_code}, field="region_code"
        )
    start, _end = snils_range(region_code=region_code, seed=seed, persons=persons)
    plan = _plan(region=region, seed=seed, as_of=as_of, snils_start=start)
    for blocks in _chunks(persons=persons, chunk_size=DEFAULT_CHUNK_SIZE):
        yield _build_chunk(plan, _chunk_spec(blocks)).persons


def _refuse_used_snils(*, region_code: str, seed: int, start: int, end: int) -> None:
    """Raise DomainError if any SNILS of the run's range is already registered."""
    # Canonical SNILS sort like their number bodies (fixed width), so a string range over the
    # partial unique index finds every SNILS of the band.
    lowest, highest = snils_from_number(start)[:11], snils_from_number(end)[:11] + " 99"
    if Person.objects.filter(snils__gte=lowest, snils__lte=highest).exists():
        raise DomainError(
            _(
                "SNILS numbers %(first)s..%(last)s of region %(region)s and seed %(seed)s are "
                "already in use, probably by an earlier load with this seed (or one equal to it "
                "mod %(slots)s); delete it or choose another seed."
            )
            % {
                "first": lowest,
                "last": highest[:11],
                "region": region_code,
                "seed": seed,
                "slots": SNILS_SEED_SLOTS,
            },
            field="seed",
            code="snils_taken",
        )


# Reference data the generator needs, read once before the load.


@dataclass(frozen=True)
class _Plan:
    seed: int
    region_code: str
    as_of: int  # ordinal
    snils_start: int
    localities: tuple[tuple[str | None, str, int], ...]  # (oktmo, locality name, weight)
    bics: tuple[str, ...]
    subsistence: dict[str, int]  # group -> kopecks a month
    created_at: str


def _plan(*, region: Region, seed: int, as_of: date, snils_start: int) -> _Plan:
    # Cities hold most people (Khabarovsk and Komsomolsk two thirds of the krai): a city
    # district weighs CITY_WEIGHT rural ones.
    localities = tuple(
        (m.oktmo, m.name, CITY_WEIGHT if m.name.startswith("г.") or "город" in m.kind else 1)
        for m in Municipality.objects.filter(region=region).order_by("oktmo")
    ) or ((None, region.name, 1),)
    return _Plan(
        seed=seed,
        region_code=region.code,
        as_of=as_of.toordinal(),
        snils_start=snils_start,
        localities=localities,
        bics=_bics(region=region, as_of=as_of),
        subsistence=_subsistence(region=region, as_of=as_of),
        created_at=timezone.now().isoformat(),
    )


def _bics(*, region: Region, as_of: date) -> tuple[str, ...]:
    """BICs of the banks in the directory on as_of, the region's own first; else synthetic."""
    banks = (
        Bank.objects.filter(valid_from__lte=as_of)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=as_of))
        # Citizens hold accounts at credit institutions, not at Bank of Russia divisions.
        .exclude(bic__regex=r"00[0-2]$")
        .order_by("bic")
        .values_list("bic", flat=True)
        .distinct()
    )
    bics = list(banks)
    okato = (region.okato or region.code)[:2]
    own = [b for b in bics if b[2:4] == okato]
    if own or bics:
        return tuple(own or bics)
    # Digits 3-4 of a BIC are the region's OKATO code; 5-6 the division; 7-9 the bank.
    return tuple(f"04{okato}{division:02d}{bank:03d}" for division, bank in _SYNTHETIC_BANKS)


_SYNTHETIC_BANKS = ((8, 608), (8, 701), (8, 752), (13, 813), (8, 855), (8, 730), (13, 880))


def _subsistence(*, region: Region, as_of: date) -> dict[str, int]:
    """The region's subsistence minimums for as_of's year in kopecks, by group."""
    rows = {}
    for row in (
        SubsistenceMinimum.objects.filter(region=region, year=as_of.year, valid_from__lte=as_of)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=as_of))
        .order_by("valid_from")
    ):
        rows[row.group] = int(row.amount * 100)
    per_capita = rows.get(SubsistenceGroup.PER_CAPITA, DEFAULT_SUBSISTENCE_MINIMUM * 100)
    return {
        group: rows.get(group, round(per_capita * coefficient))
        for group, coefficient in GROUP_COEFFICIENTS.items()
    }


# Loading


@dataclass
class _Counts:
    persons: int = 0
    relations: int = 0
    statuses: int = 0
    incomes: int = 0
    deaths: int = 0
    families: int = 0
    large_families: int = 0
    guardianships: int = 0
    without_snils: int = 0

    def add(self, other: _Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Payload:
    """COPY text of one chunk, per table."""

    persons: bytes
    relations: bytes
    statuses: bytes
    incomes: bytes
    family: bytes
    family_income: bytes
    series: bytes
    first_id: int
    last_id: int
    counts: _Counts = field(default_factory=_Counts)


def _chunks(*, persons: int, chunk_size: int) -> list[list[tuple[int, int]]]:
    """Split the run into chunks of whole blocks: (block number, persons in it)."""
    blocks = [
        (b, min(BLOCK_SIZE, persons - b * BLOCK_SIZE)) for b in range(-(-persons // BLOCK_SIZE))
    ]
    # A first chunk of one block gets PostgreSQL busy soon; the worker builds the next meanwhile.
    per_chunk = max(1, chunk_size // BLOCK_SIZE)
    rest = [blocks[i : i + per_chunk] for i in range(1, len(blocks), per_chunk)]
    return [blocks[:1], *rest] if blocks else []


def _may_skip_reference_triggers() -> bool:
    """Tell whether this session may switch off row-by-row foreign key triggers (superuser)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('is_superuser') = 'on'")
        return cursor.fetchone()[0]


# Every foreign key of the loaded rows to a person: (model, column).
PERSON_REFERENCES = (
    (Relation, "from_person_id"),
    (Relation, "to_person_id"),
    (PersonStatus, "person_id"),
    (IncomeRecord, "person_id"),
)


def _copy_chunk(payload: _Payload, *, plan: _Plan, check_references_in_bulk: bool) -> None:
    """COPY one chunk into the four tables, inside the caller's transaction.

    PostgreSQL checks a foreign key with one query per inserted row, at commit since Django
    declares them deferred: for a chunk's half a million rows that was 46% of the database's
    time. When the session may (a superuser, as with the embedded server), this transaction
    switches those triggers off (SET LOCAL session_replication_role = replica, as pg_restore
    --disable-triggers does) and checks every reference of the chunk with one anti-join per
    foreign key instead, before commit; a missing row fails the chunk. The referenced
    region and municipalities are locked FOR KEY SHARE first, as the triggers would, so no
    one can delete them before the chunk commits. CHECK, UNIQUE and NOT NULL constraints
    are not triggers and apply as always; other sessions are not affected. The triggers that
    keep the derived fact tables (registries/models/derived.py) are skipped too, so the
    chunk's family and income series rows, derived by the worker as the SQL functions would
    (tests/registries/test_derived.py compares them), are loaded with it. Any other trigger
    added later would be skipped by this load too and must then be handled here. Without the
    privilege the triggers do the checking and the deriving: a million persons then took
    105 s instead of 61 s on the 2-core benchmark machine (before the derived tables).
    """
    tables = [
        (Person, PERSON_COLUMNS, payload.persons),
        (Relation, RELATION_COLUMNS, payload.relations),
        (PersonStatus, STATUS_COLUMNS, payload.statuses),
        (IncomeRecord, INCOME_COLUMNS, payload.incomes),
    ]
    if check_references_in_bulk:
        # The triggers that derive these are off too: the worker derived them already.
        tables += [
            (FamilyMember, FAMILY_COLUMNS, payload.family),
            (IncomeSeries, SERIES_COLUMNS, payload.series),
            (FamilyIncome, FAMILY_INCOME_COLUMNS, payload.family_income),
        ]
    with connection.cursor() as cursor:
        first_ids = {}
        if check_references_in_bulk:
            cursor.execute("SET LOCAL session_replication_role = replica")
        for model, columns, data in tables:
            if not data:
                continue
            table = model._meta.db_table
            if check_references_in_bulk and model in (Relation, PersonStatus, IncomeRecord):
                # Rows of this chunk get ids from here on (with rows others commit meanwhile,
                # which their own triggers checked).
                cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
                first_ids[model] = cursor.fetchone()[0]
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                copy.write(data)
        if check_references_in_bulk:
            _check_references(cursor, payload=payload, plan=plan, first_ids=first_ids)
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def _check_references(cursor, *, payload: _Payload, plan: _Plan, first_ids: dict) -> None:
    """Lock the region and municipalities the chunk refers to; raise RuntimeError unless
    every foreign key of the chunk's rows finds its row."""
    # Table and column names below come from model metadata, never from input.
    region, municipality = Region._meta.db_table, Municipality._meta.db_table
    person = Person._meta.db_table
    cursor.execute(f"SELECT 1 FROM {region} WHERE code = %s FOR KEY SHARE", [plan.region_code])  # noqa: S608
    oktmos = [oktmo for oktmo, _, _ in plan.localities if oktmo]
    cursor.execute(f"SELECT 1 FROM {municipality} WHERE oktmo = ANY(%s) FOR KEY SHARE", [oktmos])  # noqa: S608
    queries = [
        (
            f"SELECT count(*) FROM {person} p WHERE p.id BETWEEN %s AND %s "  # noqa: S608
            f"AND (NOT EXISTS (SELECT FROM {region} r WHERE r.code = p.region_id) "
            f"OR p.municipality_id IS NOT NULL "
            f"AND NOT EXISTS (SELECT FROM {municipality} m WHERE m.oktmo = p.municipality_id))",
            [payload.first_id, payload.last_id],
        )
    ]
    for model, column in PERSON_REFERENCES:
        if model in first_ids:
            queries.append(
                (
                    f"SELECT count(*) FROM {model._meta.db_table} c WHERE c.id >= %s "  # noqa: S608
                    f"AND NOT EXISTS (SELECT FROM {person} p WHERE p.id = c.{column})",
                    [first_ids[model]],
                )
            )
    for query, params in queries:
        cursor.execute(query, params)
        missing = cursor.fetchone()[0]
        if missing:
            raise RuntimeError(f"{missing} loaded rows refer to rows that do not exist: {query}")


def _allocate_ids(count: int) -> list[int]:
    """Take count ids from the person table's sequence (not always consecutive)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Person._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _payloads(plan: _Plan, chunks: list[list[tuple[int, int]]]) -> Iterator[_Payload]:
    """Yield each chunk's payload; forked workers build the next ones while this one loads."""
    specs = (_chunk_spec(blocks) for blocks in chunks)
    if len(chunks) == 1 or "fork" not in multiprocessing.get_all_start_methods():
        for spec in specs:
            yield _build_chunk(plan, spec)
        return
    # Building a chunk (with its derived fact rows) now takes a core about as long as
    # PostgreSQL takes to load one, so BUILDERS workers build ahead while one chunk loads;
    # at most BUILDERS chunks wait, which bounds memory. The workers only compute and never
    # touch the inherited database connection.
    with multiprocessing.get_context("fork").Pool(BUILDERS) as pool:
        pending: collections.deque = collections.deque()
        for spec in specs:
            pending.append(pool.apply_async(_build_chunk, (plan, spec)))
            if len(pending) > BUILDERS:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def _chunk_spec(blocks: list[tuple[int, int]]) -> list[tuple[int, int, list[int]]]:
    ids = _allocate_ids(sum(size for _, size in blocks))
    spec, offset = [], 0
    for index, size in blocks:
        spec.append((index, size, ids[offset : offset + size]))
        offset += size
    return spec


def _build_chunk(plan: _Plan, spec: list[tuple[int, int, list[int]]]) -> _Payload:
    blocks = [_Block(plan, index, size, ids).rows() for index, size, ids in spec]
    counts = _Counts()
    for block in blocks:
        counts.add(block.counts)
    return _Payload(
        persons=b"".join(b.persons for b in blocks),
        relations=b"".join(b.relations for b in blocks),
        statuses=b"".join(b.statuses for b in blocks),
        incomes=b"".join(b.incomes for b in blocks),
        family=b"".join(b.family for b in blocks),
        family_income=b"".join(b.family_income for b in blocks),
        series=b"".join(b.series for b in blocks),
        first_id=min(min(ids) for _, _, ids in spec),
        last_id=max(max(ids) for _, _, ids in spec),
        counts=counts,
    )


# Demography: Rosstat's population of Russia on 1 January 2024 by five-year age group, in
# percent, and the share of men in each group.
AGE_GROUP_SHARES = (
    5.3, 6.3, 6.2, 5.4, 4.6, 4.8, 6.6, 8.1, 7.6, 7.0,
    6.3, 6.2, 7.0, 6.3, 5.1, 2.8, 2.4, 1.2, 0.5, 0.1,
)  # fmt: skip
MALE_SHARES = (
    0.513, 0.513, 0.513, 0.512, 0.51, 0.508, 0.502, 0.497, 0.49, 0.482,
    0.47, 0.455, 0.43, 0.405, 0.37, 0.32, 0.27, 0.23, 0.2, 0.18,
)  # fmt: skip
MAX_AGE = 99
AGES = tuple(range(MAX_AGE + 1))
AGE_CUM = tuple(
    sum(AGE_GROUP_SHARES[a // 5] for a in range(age + 1)) / 5 for age in range(MAX_AGE + 1)
)
# Annual probability of death per 1,000 by five-year age group (Rosstat life tables, rounded).
DEATHS_PER_1000 = (
    1.2, 0.2, 0.2, 0.6, 1.0, 1.5, 2.5, 3.5, 4.5, 6.0,
    8.0, 11.0, 16.0, 22.0, 32.0, 48.0, 75.0, 120.0, 200.0, 300.0,
)  # fmt: skip
# The most persons family() adds: 6 minors, grown-up children, two parents (or a guardian
# and a mother).
MAX_GROWN_UP_CHILDREN = 2
LARGEST_FAMILY = 6 + MAX_GROWN_UP_CHILDREN + 2
# Children at home in a family with minors: 1, 2, 3, 4, 5, 6 (large = 3 or more minors).
CHILDREN_WEIGHTS = (0.455, 0.4, 0.105, 0.025, 0.01, 0.005)
# Years between siblings (0: twins).
SIBLING_GAPS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12)
SIBLING_GAP_CUM = (0.02, 0.16, 0.4, 0.6, 0.73, 0.82, 0.88, 0.92, 0.95, 0.97, 0.99, 1.0)
MINOR_AGES = tuple(range(18))
# Kinds of families with minor children.
COUPLE, COHABITING, SINGLE_MOTHER, SINGLE_FATHER, GUARDIAN = range(5)
FAMILY_WEIGHTS = (
    (COUPLE, 0.66), (COHABITING, 0.08), (SINGLE_MOTHER, 0.22), (SINGLE_FATHER, 0.02),
    (GUARDIAN, 0.02),
)  # fmt: skip
# Share of adults outside families with minors who live as a couple, by age group (of 5 years).
PARTNERED_MALE = (
    0, 0, 0, 0.05, 0.22, 0.45, 0.55, 0.62, 0.66, 0.68,
    0.7, 0.72, 0.72, 0.7, 0.66, 0.6, 0.52, 0.42, 0.3, 0.2,
)  # fmt: skip
PARTNERED_FEMALE = (
    0, 0, 0, 0.1, 0.3, 0.48, 0.55, 0.58, 0.6, 0.6,
    0.58, 0.54, 0.48, 0.4, 0.3, 0.2, 0.12, 0.06, 0.03, 0.01,
)  # fmt: skip
# Prevalence of disability by age group, and the shares of groups I, II, III among adults.
DISABLED_SHARES = (
    0.012, 0.02, 0.025, 0.026, 0.02, 0.022, 0.028, 0.034, 0.04, 0.05,
    0.065, 0.085, 0.11, 0.14, 0.18, 0.22, 0.27, 0.31, 0.34, 0.36,
)  # fmt: skip
DISABILITY_GROUPS = (DisabilityGroup.GROUP_1, DisabilityGroup.GROUP_2, DisabilityGroup.GROUP_3)
DISABILITY_GROUP_CUM = (0.11, 0.51, 1.0)
# Retirement age by birth year after the 2019 reform: (last birth year, years, months).
RETIREMENT = {
    "F": ((1963, 55, 0), (1964, 55, 6), (1965, 56, 6), (1966, 58, 0), (1967, 59, 0)),
    "M": ((1958, 60, 0), (1959, 60, 6), (1960, 61, 6), (1961, 63, 0), (1962, 64, 0)),
}
RETIREMENT_AFTER = {"F": (60, 0), "M": (65, 0)}


def _cumulative(weights: tuple[float, ...] | list[float]) -> list[float]:
    total, result = 0.0, []
    for weight in weights:
        total += weight
        result.append(total)
    return result


def _years_before(day: date, years: int) -> date:
    """Return the same calendar day `years` earlier (1 March for a 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return date(day.year - years, 3, 1)


def _plus_years(ordinal: int, years: int, months: int = 0) -> int:
    """Return the ordinal of the day `years` and `months` after ordinal (1 March for 29 Feb)."""
    day = date.fromordinal(ordinal)
    month = day.month - 1 + months
    year = day.year + years + month // 12
    month = month % 12 + 1
    try:
        return date(year, month, day.day).toordinal()
    except ValueError:
        return date(year + (month == 12), month % 12 + 1, 1).toordinal()


# Names: Faker's ru_RU lists, read once, weighted by how common a name is in each generation.


@dataclass(frozen=True)
class _Names:
    male: tuple[tuple[tuple[str, ...], list[float]], ...]  # per cohort: names, cum weights
    female: tuple[tuple[tuple[str, ...], list[float]], ...]
    surnames_male: tuple[str, ...]
    surnames_female: tuple[str, ...]
    surname_cum: list[float]
    patronymics: dict[str, tuple[str, str]]  # father's first name -> (son's, daughter's)
    latin: dict[str, str]


# Cohorts: born before 1960, 1960-1989, since 1990.
COHORT_YEARS = (1960, 1990)
POPULAR_MALE = (
    "Александр Владимир Николай Виктор Анатолий Юрий Василий Геннадий Михаил Иван Борис Петр "
    "Валерий Евгений Алексей Леонид Григорий Федор Павел Валентин",
    "Александр Сергей Андрей Дмитрий Алексей Владимир Игорь Евгений Олег Михаил Николай Максим "
    "Денис Роман Виталий Константин Юрий Вадим Павел Иван",
    "Александр Максим Артем Михаил Иван Дмитрий Кирилл Никита Матвей Егор Андрей Илья Тимофей "
    "Роман Алексей Владислав Сергей Глеб Марк Лев Федор Ярослав Данила Платон",
)
POPULAR_FEMALE = (
    "Галина Валентина Нина Тамара Людмила Любовь Надежда Зинаида Антонина Лидия Раиса Мария "
    "Анна Вера Клавдия",
    "Елена Ольга Татьяна Наталья Ирина Светлана Марина Юлия Екатерина Анна Оксана Людмила "
    "Надежда Лариса Виктория",
    "Анастасия Мария Анна Дарья Екатерина Полина Виктория Елизавета София Ксения Валерия Алина "
    "Варвара Вероника Юлия Ульяна Василиса",
)
# Weight of a name outside the popular list of its cohort, against 40..20 for popular ones.
RARE_NAME_WEIGHT = 0.12

_PATRONYMIC_EXCEPTIONS = {
    "Илья": ("Ильич", "Ильинична"),
    "Лев": ("Львович", "Львовна"),
    "Павел": ("Павлович", "Павловна"),
    "Петр": ("Петрович", "Петровна"),
    "Михаил": ("Михайлович", "Михайловна"),
    "Яков": ("Яковлевич", "Яковлевна"),
    "Кузьма": ("Кузьмич", "Кузьминична"),
    "Фома": ("Фомич", "Фоминична"),
    "Лука": ("Лукич", "Лукинична"),
    "Савва": ("Саввич", "Саввична"),
    "Гаврила": ("Гаврилович", "Гавриловна"),
    "Данила": ("Данилович", "Даниловна"),
    "Мина": ("Минич", "Минична"),
    "Сила": ("Силич", "Силична"),
}
_VOWELS = frozenset("аеёиоуыэюя")


def patronymics_from(father: str) -> tuple[str, str]:
    """Return the son's and the daughter's patronymic for a father's first name."""
    if father in _PATRONYMIC_EXCEPTIONS:
        return _PATRONYMIC_EXCEPTIONS[father]
    if father.endswith("ий"):
        # Дмитрий -> Дмитриевич after two consonants, Василий -> Васильевич otherwise.
        stem = father[:-2]
        suffix = "и" if not _VOWELS.intersection(stem[-2:].lower()) else "ь"
        return f"{stem}{suffix}евич", f"{stem}{suffix}евна"
    if father.endswith(("й", "ь")):
        return f"{father[:-1]}евич", f"{father[:-1]}евна"
    if father.endswith(("а", "я")):
        return f"{father[:-1]}ич", f"{father[:-1]}ична"
    if father[-1] in "жшчщц":
        return f"{father}евич", f"{father}евна"
    return f"{father}ович", f"{father}овна"


_LATIN = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        (
            "a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p",
            "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya",
        ),
        strict=True,
    )
)  # fmt: skip


def _latin(word: str) -> str:
    return "".join(_LATIN.get(c, c) for c in word.lower())


@functools.cache
def _names() -> _Names:
    from faker.providers.person.ru_RU import Provider

    def cohorts(all_names: tuple[str, ...], popular: tuple[str, ...]):
        result = []
        for text in popular:
            ranked = text.split()
            weights = {name: RARE_NAME_WEIGHT for name in all_names}
            for rank, name in enumerate(ranked):
                if name in weights:
                    weights[name] = 40 - 20 * rank / len(ranked)
            names = tuple(weights)
            result.append((names, _cumulative([weights[n] for n in names])))
        return tuple(result)

    surnames_male = tuple(Provider.last_names_male)
    # Faker lists surnames from the most common down (Смирнов, Иванов, Кузнецов...).
    return _Names(
        male=cohorts(tuple(Provider.first_names_male), POPULAR_MALE),
        female=cohorts(tuple(Provider.first_names_female), POPULAR_FEMALE),
        surnames_male=surnames_male,
        surnames_female=tuple(Provider.last_names_female),
        surname_cum=_cumulative([1 / (rank + 15) for rank in range(len(surnames_male))]),
        patronymics={name: patronymics_from(name) for name in Provider.first_names_male},
        latin={
            name: _latin(name)
            for name in (
                *Provider.first_names_male,
                *Provider.first_names_female,
                *Provider.last_names_male,
                *Provider.last_names_female,
            )
        },
    )


@functools.cache
def _streets() -> tuple[str, ...]:
    from faker.providers.address.ru_RU import Provider

    return tuple(f"ул. {title}" for title in Provider.street_titles) + tuple(
        f"ул. {title}" for title in Provider.street_titles_noflex
    )


@functools.cache
def _employers(region_code: str) -> tuple[tuple[str, ...], list[float]]:
    """Synthetic legal-entity INNs registered in the region, the big employers first."""
    # An INN starts with the region's tax code; digits 3-4 name the tax office.
    inns = tuple(
        inn_legal_from_number(int(f"{region_code}{1 + n % 24:02d}{10_000 + n * 37:05d}"))
        for n in range(400)
    )
    return inns, _cumulative([1 / (rank + 3) for rank in range(len(inns))])


NOTIFICATION_CHOICES = (
    # (up to age, [(channels literal, weight)])
    (29, (("{portal,sms}", 5), ("{portal,email,sms}", 3), ("{portal}", 2), ("{}", 1))),
    (59, (("{portal,sms}", 4), ("{portal,email,sms}", 3), ("{sms}", 2), ("{portal}", 1),
          ("{}", 1))),
    (74, (("{sms}", 3), ("{portal,sms}", 3), ("{post}", 2), ("{sms,post}", 2), ("{}", 1))),
    (200, (("{post}", 5), ("{sms,post}", 2), ("{sms}", 1), ("{}", 2))),
)  # fmt: skip
EMAIL_DOMAINS = ("mail.example", "yandex.example", "inbox.example", "list.example")
# Month-to-month variation of a salary (per mille): mostly flat, sometimes a bonus. 32
# entries, so that getrandbits(5) picks one.
SALARY_VARIATION = tuple(
    [1000] * 20 + [980, 990, 1010, 1020, 1030, 950, 1050, 1100, 1150, 1250, 1400, 1600]
)
assert len(SALARY_VARIATION) == 32


@dataclass
class _BlockRows:
    persons: bytes
    relations: bytes
    statuses: bytes
    incomes: bytes
    family: bytes
    family_income: bytes
    series: bytes
    counts: _Counts


class _Block:
    """BLOCK_SIZE persons in households, from one random stream; rows() formats them."""

    def __init__(self, plan: _Plan, index: int, size: int, ids: list[int]):
        self.plan = plan
        self.index = index
        self.size = size
        self.ids = ids
        self.rng = random.Random(f"population:{plan.seed}:{index}")
        # Places (municipality, street, bank) draw from their own stream so that the people
        # are the same whatever the region's municipalities and banks.
        self.place = random.Random(f"population-place:{plan.seed}:{index}")
        self.today = date.fromordinal(plan.as_of)
        self.years_ago = [_years_before(self.today, a).toordinal() for a in range(MAX_AGE + 30)]
        self.names = _names()
        # Struct of arrays, one entry per person.
        self.sex: list[str] = []
        self.birth: list[int] = []
        self.last: list[str] = []
        self.first: list[str] = []
        self.patronymic: list[str] = []
        self.household: list[int] = []
        self.not_before: list[int] = []  # earliest death date (a child's birth, a wedding)
        self.immortal: set[int] = set()  # guardians, so wards keep them
        self.death: dict[int, int] = {}
        self.youngest_child: dict[int, int] = {}  # mother -> birth of her youngest child
        self.households: list[tuple[str, str]] = []  # (municipality or \N, address)
        self.relations: list[tuple[str, str, int, int, int, int]] = []
        self.marriages: list[tuple[int, int, int, int]] = []  # (husband, wife, from, to or 0)
        self.large: list[tuple[tuple[int, ...], int, int]] = []  # (parents, from, to)
        self.counts = _Counts(persons=size)
        self.used = {"M": [0] * (MAX_AGE + 1), "F": [0] * (MAX_AGE + 1)}

    # Persons

    def age(self, birth: int, on: int | None = None) -> int:
        """Age in full years on the day `on` (today by default)."""
        if on is None:
            years_ago = self.years_ago
            age = max(0, min((self.plan.as_of - birth) * 100 // 36525, len(years_ago) - 2))
            while age + 1 < len(years_ago) and years_ago[age + 1] >= birth:
                age += 1
            while age > 0 and years_ago[age] < birth:
                age -= 1
            return age
        day, born = date.fromordinal(on), date.fromordinal(birth)
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def birth_for_age(self, age: int) -> int:
        """A random birth date of someone exactly `age` years old today."""
        return self.rng.randint(self.years_ago[age + 1] + 1, self.years_ago[age])

    def first_name(self, sex: str, birth: int) -> str:
        year = date.fromordinal(birth).year
        cohort = bisect.bisect_right(COHORT_YEARS, year)
        names, cum = (self.names.male if sex == "M" else self.names.female)[cohort]
        return names[bisect.bisect_left(cum, self.rng.random() * cum[-1])]

    def surname(self) -> int:
        cum = self.names.surname_cum
        return bisect.bisect_left(cum, self.rng.random() * cum[-1])

    def add(
        self, sex: str, birth: int, surname: int, household: int, father: str | None = None
    ) -> int:
        """Add a person; the patronymic comes from the father's first name (a random one if
        the father is unknown)."""
        if father is None:
            father = self.first_name("M", birth - self.rng.randint(20 * 365, 40 * 365))
        son, daughter = self.names.patronymics[father]
        self.sex.append(sex)
        self.birth.append(birth)
        names = self.names
        self.last.append((names.surnames_male if sex == "M" else names.surnames_female)[surname])
        self.first.append(self.first_name(sex, birth))
        self.patronymic.append(son if sex == "M" else daughter)
        self.household.append(household)
        self.not_before.append(birth)
        age = self.age(birth)
        if age >= 18:
            self.used[sex][min(age, MAX_AGE)] += 1
        return len(self.sex) - 1

    def new_household(self) -> int:
        place = self.place
        localities = self.plan.localities
        oktmo, locality, _weight = localities[
            bisect.bisect_left(self.locality_cum, place.random() * self.locality_cum[-1])
        ]
        street = self.streets[place.randrange(len(self.streets))]
        house = place.randint(1, 160)
        address = (
            f"{locality}, {street}, д. {house}, кв. {place.randint(1, 280)}"
            if place.random() < 0.82
            else f"{locality}, {street}, д. {house}"
        )
        self.households.append((oktmo or "\\N", address))
        return len(self.households) - 1

    def relate(self, kind: str, basis: str, a: int, b: int, since: int, until: int = 0) -> None:
        self.relations.append((kind, basis, a, b, since, until))

    # Households

    def generate(self) -> None:
        rng = self.rng
        plan_localities = self.plan.localities
        self.locality_cum = _cumulative([w for _, _, w in plan_localities])
        self.streets = _streets()
        ages = rng.choices(AGES, cum_weights=AGE_CUM, k=self.size)
        # Children are drawn against the block's quota of each age, so that families are
        # built around the pyramid rather than bending it.
        self.minor_quota = [0] * 18
        for a in ages:
            if a < 18:
                self.minor_quota[a] += 1
        minors = sum(self.minor_quota)
        target = {"M": [0] * (MAX_AGE + 1), "F": [0] * (MAX_AGE + 1)}
        for a in ages:
            if a >= 18:
                target["M" if rng.random() < MALE_SHARES[a // 5] else "F"][a] += 1
        made = 0
        kinds, kind_cum = zip(*FAMILY_WEIGHTS, strict=True)
        kind_cum = _cumulative(kind_cum)
        children_cum = _cumulative(CHILDREN_WEIGHTS)
        # A family has at most LARGEST_FAMILY persons: stop while there is room for one, and
        # fill the rest of the block with adults, so the block has exactly `size` persons.
        while made < minors and len(self.sex) + LARGEST_FAMILY <= self.size:
            kind = kinds[bisect.bisect_left(kind_cum, rng.random() * kind_cum[-1])]
            wanted = 1 + bisect.bisect_left(children_cum, rng.random() * children_cum[-1])
            made += self.family(kind, min(wanted, minors - made))
        self.adults(target)

    def children_births(self, wanted: int) -> list[int]:
        """Birth dates of a family's children, youngest first; older ones may be adults."""
        rng, quota = self.rng, self.minor_quota
        youngest = rng.choices(MINOR_AGES, weights=quota if any(quota) else None)[0]
        quota[youngest] = max(0, quota[youngest] - 1)
        births = [self.birth_for_age(youngest)]
        while len(births) < wanted:
            # An older sibling of an age whose quota is used up is tried again a few times.
            for _attempt in range(4):
                gap = SIBLING_GAPS[bisect.bisect_left(SIBLING_GAP_CUM, rng.random())]
                days = 0 if gap == 0 else max(300, gap * 365 + rng.randint(-150, 150))
                birth = births[-1] - days
                age = self.age(birth)
                if age >= 18 or quota[age] > 0:
                    break
            if age >= 18 or quota[age] == 0:
                break
            quota[age] -= 1
            births.append(birth)
        return births

    def family(self, kind: int, wanted: int) -> int:
        """Add a family with minor children of the given kind; return the number of minors."""
        rng = self.rng
        births = self.children_births(wanted)
        # Grown-up children (18 to 23) still living with the family: some of them.
        for _child in range(MAX_GROWN_UP_CHILDREN):
            if rng.random() >= 0.25:
                break
            older = births[-1] - max(300, rng.randint(1, 5) * 365 + rng.randint(-150, 150))
            if not 18 <= self.age(older) <= 23:
                break
            births.append(older)
        oldest = births[-1]
        home = self.new_household()
        # Mother's age at her first child's birth: 18 to 40, mostly mid-twenties.
        mother_birth = _plus_years(oldest, -int(rng.triangular(18, 41, 25))) - rng.randrange(365)
        father_birth = mother_birth - int(rng.gauss(2.5, 3) * 365)
        father_birth = min(father_birth, _plus_years(oldest, -18) - rng.randrange(200))
        surname = self.surname()
        father_name = None
        mother = father = None
        if kind == GUARDIAN:
            return self.guardianship(births, mother_birth, surname)
        if kind in (COUPLE, COHABITING, SINGLE_FATHER) or rng.random() < 0.6:
            # A single mother's children often still know their father (divorce, paternity).
            father_home = home if kind != SINGLE_MOTHER else self.new_household()
            father = self.add("M", father_birth, surname, father_home)
            father_name = self.first[father]
            self.not_before[father] = births[0]
        if kind != SINGLE_FATHER:
            mother = self.add("F", mother_birth, surname, home)
            self.not_before[mother] = births[0]
            self.youngest_child[mother] = births[0]
        children = [
            self.add("M" if rng.random() < 0.512 else "F", birth, surname, home, father_name)
            for birth in births
        ]
        married = kind == COUPLE or (
            kind == SINGLE_MOTHER and father is not None and rng.random() < 0.7
        )
        for child, birth in zip(children, births, strict=True):
            if mother is not None:
                self.relate(RelationKind.PARENT, RelationBasis.BIRTH, mother, child, birth)
            if father is not None:
                basis = RelationBasis.BIRTH if married else RelationBasis.PATERNITY
                self.relate(RelationKind.PARENT, basis, father, child, birth)
        if married and mother is not None and father is not None:
            adult = max(_plus_years(mother_birth, 18), _plus_years(father_birth, 18))
            wedding = max(adult, oldest - rng.randint(-2 * 365, 5 * 365))
            wedding = min(wedding, self.plan.as_of)
            divorce = 0
            if kind == SINGLE_MOTHER:
                divorce = rng.randint(max(wedding, births[0]), self.plan.as_of)
            self.marriages.append((father, mother, wedding, divorce))
            self.not_before[father] = max(self.not_before[father], wedding)
            self.not_before[mother] = max(self.not_before[mother], wedding)
        minors = [b for b in births if self.age(b) < 18]
        self.counts.families += 1
        if len(minors) >= 3:
            self.counts.large_families += 1
            parents = tuple(
                p for p in (mother, father) if p is not None and self.household[p] == home
            )
            # Large from the third child's birth until the third-youngest child turns 18.
            self.large.append((parents, sorted(births)[2], _plus_years(minors[2], 18) - 1))
        return len(minors)

    def guardianship(self, births: list[int], mother_birth: int, surname: int) -> int:
        """Children under guardianship of a relative; their mother has died or is absent."""
        rng = self.rng
        births = [b for b in births if self.age(b) < 18]
        home = self.new_household()
        children = [
            self.add("M" if rng.random() < 0.512 else "F", birth, surname, home) for birth in births
        ]
        mother = None
        if rng.random() < 0.4:
            mother = self.add("F", mother_birth, surname, self.new_household())
            died = rng.randint(min(births[0] + 1, self.plan.as_of), self.plan.as_of)
            self.death[mother] = died
            for child, birth in zip(children, births, strict=True):
                self.relate(RelationKind.PARENT, RelationBasis.BIRTH, mother, child, birth)
        # The guardian is a grandparent: 20 to 30 years older than the mother.
        sex = "F" if rng.random() < 0.8 else "M"
        guardian_birth = mother_birth - rng.randint(20 * 365, 30 * 365)
        guardian_surname = surname if rng.random() < 0.5 else self.surname()
        guardian = self.add(sex, guardian_birth, guardian_surname, home)
        self.immortal.add(guardian)
        appointed = []
        for child, birth in zip(children, births, strict=True):
            since = rng.randint(birth + 30, max(birth + 30, self.plan.as_of))
            if mother is not None:
                since = max(since, min(self.death[mother] + rng.randint(30, 180), self.plan.as_of))
            since = min(since, self.plan.as_of)
            appointed.append(since)
            fourteen, eighteen = _plus_years(birth, 14), _plus_years(birth, 18)
            if since < fourteen:
                self.relate(
                    RelationKind.REPRESENTATIVE,
                    RelationBasis.GUARDIANSHIP,
                    guardian,
                    child,
                    since,
                    fourteen - 1,
                )
            if fourteen <= self.plan.as_of:
                self.relate(
                    RelationKind.REPRESENTATIVE,
                    RelationBasis.TRUSTEESHIP,
                    guardian,
                    child,
                    max(since, fourteen),
                    eighteen - 1,
                )
        self.counts.families += 1
        self.counts.guardianships += 1
        if len(births) >= 3:
            # A guardian of three or more children has the large-family status from when the
            # third of them came under guardianship.
            self.counts.large_families += 1
            self.large.append(((guardian,), sorted(appointed)[2], _plus_years(births[2], 18) - 1))
        return len(births)

    def adults(self, target: dict[str, list[int]]) -> None:
        """Fill the block with adults outside families with minors: couples and singles."""
        rng = self.rng
        remaining = self.size - len(self.sex)
        if remaining <= 0:
            return
        cells = [(sex, age) for sex in "MF" for age in range(18, MAX_AGE + 1)]
        weights = [max(0, target[s][a] - self.used[s][a]) for s, a in cells]
        if not any(weights):
            weights = [target[s][a] + 1 for s, a in cells]
        drawn = rng.choices(cells, weights=weights, k=remaining)
        men, women = [], []
        single = []
        for sex, age in drawn:
            birth = self.birth_for_age(age)
            shares = PARTNERED_MALE if sex == "M" else PARTNERED_FEMALE
            if rng.random() < shares[min(age // 5, 19)]:
                (men if sex == "M" else women).append(birth)
            else:
                single.append((sex, birth))
        # Pair men and women of similar age, men a little older.
        men.sort(key=lambda b: b + rng.randint(-900, 900))
        women.sort(key=lambda b: b - 900 + rng.randint(-900, 900))
        for husband_birth, wife_birth in zip(men, women, strict=False):
            home = self.new_household()
            surname = self.surname()
            husband = self.add("M", husband_birth, surname, home)
            wife_surname = surname if rng.random() < 0.85 else self.surname()
            wife = self.add("F", wife_birth, wife_surname, home)
            if rng.random() < 0.85:
                adult = max(_plus_years(husband_birth, 18), _plus_years(wife_birth, 18))
                wedding = min(
                    max(adult, _plus_years(wife_birth, int(rng.triangular(18, 40, 23)))),
                    self.plan.as_of,
                )
                self.marriages.append((husband, wife, wedding, 0))
                self.not_before[husband] = self.not_before[wife] = wedding
        paired = min(len(men), len(women))
        single += [("M", b) for b in men[paired:]] + [("F", b) for b in women[paired:]]
        ex_men, ex_women = [], []
        for sex, birth in single:
            person = self.add(sex, birth, self.surname(), self.new_household())
            if self.age(birth) >= 30 and rng.random() < 0.25:
                (ex_men if sex == "M" else ex_women).append(person)
        # Some of the people living alone were married to each other once (at similar ages).
        ex_men.sort(key=self.birth.__getitem__)
        ex_women.sort(key=self.birth.__getitem__)
        for husband, wife in zip(ex_men, ex_women, strict=False):
            adult = max(_plus_years(self.birth[husband], 18), _plus_years(self.birth[wife], 18))
            wedding = rng.randint(adult, max(adult, self.plan.as_of - 400))
            divorce = rng.randint(wedding + 180, max(wedding + 180, self.plan.as_of))
            divorce = min(divorce, self.plan.as_of)
            if divorce > wedding:
                self.marriages.append((husband, wife, wedding, divorce))
                self.not_before[husband] = max(self.not_before[husband], wedding)
                self.not_before[wife] = max(self.not_before[wife], wedding)

    # Rows

    def rows(self) -> _BlockRows:
        self.generate()
        self.statuses_out: list[str] = []
        self.incomes_out: list[str] = []
        plan, rng, place = self.plan, self.rng, self.place
        today = plan.as_of
        counts = self.counts
        names = self.names
        day = _day_strings(today)
        months = _months(today)
        month_prefix = _month_prefixes(today)
        january = date(date.fromordinal(months[-1]).year, 1, 1).toordinal()
        # Pensions were indexed by 7.6% in January: earlier months paid less.
        pension_index = [1000 if m >= january else 929 for m in months]
        minimum = plan.subsistence
        pensioner_minimum = minimum[SubsistenceGroup.PENSIONER]
        child_minimum = minimum[SubsistenceGroup.CHILD]
        bics = plan.bics
        region = plan.region_code
        created = plan.created_at
        ids = self.ids
        first_counter = self.index * BLOCK_SIZE
        channel_tables = [
            (limit, [c for c, _ in options], _cumulative([w for _, w in options]))
            for limit, options in NOTIFICATION_CHOICES
        ]
        source = f"{SOURCE}:{plan.seed}"
        status_tail = f"\t{source}\t\n"
        fund_tail = f"\t{SOCIAL_FUND_INN}\t{source}\n"

        persons_out: list[str] = []
        statuses_out = self.statuses_out
        incomes_out = self.incomes_out
        death_of = self.death
        immortal = self.immortal

        for i, birth in enumerate(self.birth):
            sex = self.sex[i]
            pid = ids[i]
            age = self.age(birth)
            group = min(age // 5, 19)
            # Death within the last year, never before a child's birth or a wedding.
            death = death_of.get(i)
            if death is None and i not in immortal and rng.random() * 1000 < DEATHS_PER_1000[group]:
                death = max(today - rng.randrange(365), self.not_before[i])
                death_of[i] = death
            alive_months = 12 if death is None else bisect.bisect_right(months, death)
            end_text = "\\N" if death is None else day(death)
            if death is not None:
                counts.deaths += 1

            # Pension age, disability, work.
            retired = 0
            if age >= 50:
                years, extra = RETIREMENT_AFTER[sex]
                born_in = date.fromordinal(birth).year
                for last_year, y, m in RETIREMENT[sex]:
                    if born_in <= last_year:
                        years, extra = y, m
                        break
                retirement = _plus_years(birth, years, extra)
                if retirement <= today and (death is None or death >= retirement):
                    retired = retirement
                    statuses_out.append(
                        f"{pid}\t{StatusKind.PENSIONER}\t{day(retirement)}\t{end_text}\t\t"
                        f"f{status_tail}"
                    )
                    # Never below the pensioners' minimum: the social supplement tops it up.
                    base = max(
                        pensioner_minimum, int(pensioner_minimum * rng.lognormvariate(0.38, 0.25))
                    )
                    amounts = {k: _money(base * k // 1000) for k in set(pension_index)}
                    first = bisect.bisect_left(months, _month_start(retirement))
                    head = f"{pid}\t{IncomeKind.PENSION}\t"
                    incomes_out.extend(
                        f"{head}{month_prefix[j]}{amounts[pension_index[j]]}{fund_tail}"
                        for j in range(first, alive_months)
                    )
            disability = ""
            if rng.random() < DISABLED_SHARES[group] and today - birth > 60:
                adult_from = _plus_years(birth, 18)
                latest = death if death is not None else today
                if age < 18:
                    disability, childhood = DisabilityGroup.CHILD, True
                    since = rng.randint(birth + 30, max(birth + 30, latest))
                    until = day(min(adult_from - 1, latest)) if death else day(adult_from - 1)
                    pension = int(child_minimum * (1 + rng.random() * 0.2))
                else:
                    cut = rng.random()
                    disability = DISABILITY_GROUPS[bisect.bisect_left(DISABILITY_GROUP_CUM, cut)]
                    childhood = age < 50 and rng.random() < 0.2
                    since = (
                        adult_from
                        if childhood
                        else rng.randint(max(adult_from, today - 20 * 365), max(adult_from, latest))
                    )
                    until = end_text
                    pension = int(pensioner_minimum * (1.25, 0.95, 0.55)[int(disability) - 1])
                since = min(since, latest)
                statuses_out.append(
                    f"{pid}\t{StatusKind.DISABILITY}\t{day(since)}\t{until}\t{disability}\t"
                    f"{'t' if childhood else 'f'}{status_tail}"
                )
                if not retired:
                    first = bisect.bisect_left(months, _month_start(since))
                    head, amount = f"{pid}\t{IncomeKind.PENSION}\t", _money(pension)
                    incomes_out.extend(
                        f"{head}{month_prefix[j]}{amount}{fund_tail}"
                        for j in range(first, alive_months)
                    )
            if age >= 18 and (not retired or age < 70):
                self.occupation(i, pid, age, retired, disability, death, alive_months)

            # Identifiers and contacts.
            if today - birth < NEWBORN_DAYS:
                snils = "\\N"
                counts.without_snils += 1
            else:
                snils = snils_from_number(plan.snils_start + first_counter + i)
            bic = account = phone = email = ""
            if age >= 18 and place.random() < 0.8:
                bic = bics[place.randrange(len(bics))]
                account = account_control_key(f"40817810{place.randrange(10**11):011d}", bic)
            if age >= 14:
                if rng.random() < 0.92:
                    phone = f"+79{rng.randrange(10**9):09d}"
                if age < 75 and rng.random() < 0.5:
                    latin = names.latin
                    email = (
                        f"{latin[self.first[i]]}.{latin[self.last[i]]}{rng.randrange(100)}"
                        f"@{EMAIL_DOMAINS[rng.randrange(len(EMAIL_DOMAINS))]}"
                    )
                for limit, options, cum in channel_tables:
                    if age <= limit:
                        channels = options[bisect.bisect_left(cum, rng.random() * cum[-1])]
                        break
            else:
                channels = "{}"
            oktmo, address = self.households[self.household[i]]
            persons_out.append(
                f"{pid}\t{snils}\t{self.last[i]}\t{self.first[i]}\t{self.patronymic[i]}\t"
                f"{day(birth)}\t{sex}\t{end_text}\tRUS\t{address}\t\\N\t{phone}\t{email}\t{bic}\t"
                f"{account}\t{'t' if rng.random() < 0.97 else 'f'}\t{channels}\t{created}\t"
                f"{created}\t{oktmo}\t{region}\n"
            )

        relations_out = [
            f"{kind}\t{basis}\t{day(since)}\t{day(until) if until else chr(92) + 'N'}\t\t"
            f"{ids[a]}\t{ids[b]}\n"
            for kind, basis, a, b, since, until in self.relations
        ]
        for husband, wife, since, until in self.marriages:
            ends = [d for d in (until, death_of.get(husband), death_of.get(wife)) if d]
            relations_out.append(
                f"{RelationKind.SPOUSE}\t{RelationBasis.MARRIAGE}\t{day(since)}\t"
                f"{day(min(ends)) if ends else chr(92) + 'N'}\t\t{ids[husband]}\t{ids[wife]}\n"
            )
        for parents, since, until in self.large:
            for parent in parents:
                end = min(until, death_of.get(parent, until))
                if end >= since:
                    statuses_out.append(
                        f"{ids[parent]}\t{StatusKind.LARGE_FAMILY}\t{day(since)}\t{day(end)}\t\t"
                        f"f{status_tail}"
                    )
        counts.relations = len(relations_out)
        counts.statuses = len(statuses_out)
        counts.incomes = len(incomes_out)
        return _BlockRows(
            persons="".join(persons_out).encode(),
            relations="".join(relations_out).encode(),
            statuses="".join(statuses_out).encode(),
            incomes="".join(incomes_out).encode(),
            **self.derived_rows(incomes_out, day),
            counts=counts,
        )

    def derived_rows(self, incomes: list[str], day: Callable[[int], str]) -> dict[str, bytes]:
        """COPY text of the derived fact tables (registries/services/derived.py)."""
        series = derived.income_series(_income_records(incomes))
        members = self.family_members()
        family = [derived.member_line(p, m, day) for p, found in members.items() for m in found]
        periods = [
            derived.period_line(p, period, day)
            for p, found in members.items()
            for period in derived.family_income(p, found, series)
        ]
        return {
            "family": "".join(family).encode(),
            "family_income": "".join(periods).encode(),
            "series": "".join(derived.series_line(p, s) for p, s in series.items()).encode(),
        }

    def family_members(self) -> dict[int, list[derived.Member]]:
        """Each person's registries_familymember rows, as registries_family_refresh() makes
        them: a child while the parent tie is active and the child alive, a spouse while
        married and alive."""
        ids, birth, death = self.ids, self.birth, self.death
        spans: dict[tuple[int, int, str], list[derived.Span]] = {}

        def belongs(person: int, member: int, kind: str, since: int, until: int) -> None:
            lower = max(since, birth[member])
            ends = [d for d in (until, death.get(member, 0) - 1) if d > 0]
            upper = min(ends) if ends else 0
            if upper and upper < lower:
                return
            spans.setdefault((person, member, kind), []).append(
                (lower, upper + 1 if upper else None)
            )

        for kind, _basis, a, b, since, until in self.relations:
            if kind == RelationKind.PARENT:
                belongs(a, b, "child", since, until)
        for husband, wife, since, until in self.marriages:
            # The relation ends with the marriage or the first death (see rows()).
            ends = [d for d in (until, death.get(husband), death.get(wife)) if d]
            end = min(ends) if ends else 0
            belongs(husband, wife, "spouse", since, end)
            belongs(wife, husband, "spouse", since, end)
        members: dict[int, list[derived.Member]] = {}
        for (person, member, kind), found in spans.items():
            members.setdefault(ids[person], []).append(
                derived.Member(ids[member], kind, birth[member], derived.merge(found))
            )
        return members

    def occupation(
        self, i: int, pid: int, age: int, retired: int, disability: str, death, alive: int
    ) -> None:
        """Add a salary, parental leave, studies or unemployment of an adult."""
        rng, today = self.rng, self.plan.as_of
        months, month_prefix, day = _months(today), _month_prefixes(today), _day_strings(today)
        per_capita = self.plan.subsistence[SubsistenceGroup.PER_CAPITA]
        source = f"{SOURCE}:{self.plan.seed}"
        fund_tail = f"\t{SOCIAL_FUND_INN}\t{source}\n"
        sex, birth = self.sex[i], self.birth[i]
        if retired:
            chance = 0.2
        elif age < 25:
            chance = (0.3, 0.3, 0.55, 0.55, 0.55, 0.72, 0.72)[age - 18]
        elif age < 55:
            chance = 0.9 if sex == "M" else 0.82
        else:
            chance = 0.62
        if disability:
            chance *= {"1": 0.05, "2": 0.3, "3": 0.6}[disability]
        if rng.random() < chance:
            employers, cum = _employers(self.plan.region_code)
            payer = employers[bisect.bisect_left(cum, rng.random() * cum[-1])]
            # Log-normal around 3.2 subsistence minimums, so that families with one earner
            # and several children fall below the per-capita minimum.
            base = max(per_capita * 6 // 10, int(per_capita * rng.lognormvariate(1.2, 0.5)))
            leave = alive
            youngest = self.youngest_child.get(i)
            if youngest is not None and today - youngest < 548:
                leave = min(alive, bisect.bisect_left(months, _month_start(youngest)))
            variation = SALARY_VARIATION
            tail = f"\t{payer}\t{source}\n"
            self.incomes_out.extend(
                f"{pid}\t{IncomeKind.SALARY}\t{month_prefix[j]}"
                f"{_money(base * variation[rng.getrandbits(5)] // 1000)}{tail}"
                for j in range(leave)
            )
            # Childcare allowance until the child is one and a half: 40% of earnings.
            allowance = _money(max(base * 4 // 10, per_capita * 52 // 100))
            self.incomes_out.extend(
                f"{pid}\t{IncomeKind.BENEFIT}\t{month_prefix[j]}{allowance}{fund_tail}"
                for j in range(leave, alive)
            )
            return
        if retired:
            return
        latest = death if death is not None else today
        if age <= 23 and rng.random() < 0.6:
            # Enrolled on 1 September at 17 or 18, for four years (six with a master's).
            year = date.fromordinal(birth).year + 18
            if date(year, 9, 1).toordinal() > today:
                year -= 1
            since = date(year, 9, 1).toordinal()
            until = date(year + 4, 6, 30).toordinal()
            if until < today:
                until = date(year + 6, 6, 30).toordinal()
            until = min(until, latest)
            if until >= since and since >= birth:
                self.statuses_out.append(
                    f"{pid}\t{StatusKind.STUDENT}\t{day(since)}\t{day(until)}\t\tf\t{source}\t\n"
                )
                if rng.random() < 0.5:
                    grant = _money(per_capita * (15 + rng.randrange(6)) // 100)
                    first = bisect.bisect_left(months, _month_start(since))
                    self.incomes_out.extend(
                        f"{pid}\t{IncomeKind.SCHOLARSHIP}\t{month_prefix[j]}{grant}\t\t{source}\n"
                        for j in range(first, min(alive, 12))
                    )
            return
        if age > 23 and disability != "1" and rng.random() < 0.2:
            since = max(today - rng.randint(30, 400), _plus_years(birth, 18))
            if since > latest:
                return
            end = "\\N" if death is None else day(death)
            self.statuses_out.append(
                f"{pid}\t{StatusKind.UNEMPLOYED}\t{day(since)}\t{end}\t\tf\t{source}\t\n"
            )
            benefit = _money(per_capita * (10 + rng.randrange(70)) // 100)
            first = bisect.bisect_left(months, _month_start(since))
            self.incomes_out.extend(
                f"{pid}\t{IncomeKind.BENEFIT}\t{month_prefix[j]}{benefit}{fund_tail}"
                for j in range(first, alive)
            )


def _income_records(incomes: list[str]) -> Iterator[tuple[int, int, int]]:
    """(person, month number, kopecks) of income COPY lines."""
    numbers: dict[str, int] = {}
    for line in incomes:
        person, _kind, month, amount, _rest = line.split("\t", 4)
        n = numbers.get(month)
        if n is None:
            n = numbers[month] = int(month[:4]) * 12 + int(month[5:7]) - 1
        yield int(person), n, int(amount.replace(".", ""))


def _money(kopecks: int) -> str:
    rubles, kopecks = divmod(kopecks, 100)
    return f"{rubles}.{kopecks:02d}"


def _month_start(ordinal: int) -> int:
    day = date.fromordinal(ordinal)
    return ordinal - day.day + 1


@functools.cache
def _months(today: int) -> tuple[int, ...]:
    """First days of the twelve full months before today's month, oldest first."""
    day = date.fromordinal(today).replace(day=1)
    result = []
    for _month in range(12):
        day = (day - timedelta(days=1)).replace(day=1)
        result.append(day.toordinal())
    return tuple(reversed(result))


@functools.cache
def _month_prefixes(today: int) -> tuple[str, ...]:
    return tuple(f"{date.fromordinal(m).isoformat()}\t" for m in _months(today))


@functools.cache
def _day_strings(today: int) -> Callable[[int], str]:
    """Return a fast ordinal -> 'YYYY-MM-DD' function (a table over 125 years around today)."""
    base = today - 110 * 366
    table = [date.fromordinal(o).isoformat() for o in range(base, today + 30 * 366)]
    size = len(table)

    def text(ordinal: int) -> str:
        offset = ordinal - base
        return table[offset] if 0 <= offset < size else date.fromordinal(ordinal).isoformat()

    return text

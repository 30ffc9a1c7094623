"""`manage.py sweep_entitlements` and the Celery task that sweeps a measure over a region."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from measures.enums import Outcome
from measures.models import Entitlement
from measures.services.entitlements import MeasureNotInRegion
from measures.tasks import sweep_entitlements
from tests.measures.families import (
    ON,
    SCHOOLCHILD,
    UNIFIED,
    measure,
)

pytestmark = pytest.mark.django_db

PERSONS = 8  # the three families of region 27, children included


def sweep(*args: str) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("sweep_entitlements", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def refused(*args: str) -> str:
    with translation.override("en"), pytest.raises(CommandError) as caught:
        call_command("sweep_entitlements", *args, stdout=StringIO(), stderr=StringIO())
    return str(caught.value)


class TestCommand:
    def test_sweeps_and_reports_persons_written_and_outcomes(self, families):
        output = sweep("--measure", SCHOOLCHILD, "--region", "27", "--as-of", ON.isoformat())

        assert (
            f"{SCHOOLCHILD}, region 27, as of 2025-09-01, rules v1: {PERSONS} persons in"
        ) in output
        assert f"; {PERSONS} entitlements written or changed." in output
        lines = {line.split()[0]: line.split()[-1] for line in output.splitlines()[1:]}
        assert lines == {"Eligible": "1", "Not": str(PERSONS - 1)}
        assert Entitlement.objects.filter(outcome=Outcome.ELIGIBLE).get().person == families.mother

    def test_a_second_run_writes_nothing(self, families):
        sweep("--measure", UNIFIED, "--region", "27", "--as-of", ON.isoformat())
        output = sweep("--measure", UNIFIED, "--region", "27", "--as-of", ON.isoformat())
        assert "; 0 entitlements written or changed." in output
        assert Entitlement.objects.count() == PERSONS

    def test_an_empty_region_sweeps_nobody(self, loaded_catalogue):
        output = sweep("--measure", UNIFIED, "--region", "77", "--as-of", ON.isoformat())
        assert ": 0 persons in" in output

    def test_unknown_measure(self, loaded_catalogue):
        assert refused("--measure", "nowhere.nothing", "--region", "27") == (
            "Unknown measure nowhere.nothing."
        )

    def test_unknown_region(self, loaded_catalogue):
        assert refused("--measure", UNIFIED, "--region", "99") == "Unknown region 99."

    @pytest.mark.parametrize("bad", ["2025-02-30", "01.09.2025", "today"])
    def test_a_bad_date(self, loaded_catalogue, bad):
        message = refused("--measure", UNIFIED, "--region", "27", "--as-of", bad)
        assert f"'{bad}' is not a date in the form 2025-01-31." in message

    def test_no_rule_in_force(self, loaded_catalogue):
        message = refused("--measure", SCHOOLCHILD, "--region", "27", "--as-of", "2020-01-01")
        assert message == (f"Measure {SCHOOLCHILD} has no published rule in force on 2020-01-01.")
        assert not Entitlement.objects.exists()

    def test_another_regions_measure_is_refused(self, families):
        message = refused("--measure", "moscow.child_allowance", "--region", "27")
        assert message == "Measure moscow.child_allowance is not given in region 27."
        assert not Entitlement.objects.exists()

    def test_missing_arguments(self, loaded_catalogue):
        assert "--region" in refused("--measure", UNIFIED)


class TestTask:
    def test_returns_the_summary(self, families):
        kwargs = {"measure_id": measure(UNIFIED).pk, "region_code": "27", "on": ON.isoformat()}

        result = sweep_entitlements.apply(kwargs=kwargs).get()

        assert result["measure"] == UNIFIED
        assert (result["region"], result["as_of"], result["rule_version"]) == (
            "27",
            "2025-09-01",
            1,
        )
        assert result["persons"] == result["written"] == PERSONS
        assert sum(result["outcomes"].values()) == PERSONS
        assert result["outcomes"][Outcome.ELIGIBLE] == 1  # the low-income mother
        assert isinstance(result["seconds"], float)

    def test_a_retry_rewrites_nothing(self, families):
        kwargs = {"measure_id": measure(UNIFIED).pk, "region_code": "27", "on": ON.isoformat()}
        sweep_entitlements.delay(**kwargs)
        again = sweep_entitlements.delay(**kwargs).get()
        assert again["written"] == 0
        assert again["persons"] == PERSONS

    def test_another_regions_measure_fails(self, families):
        kwargs = {
            "measure_id": measure("moscow.child_allowance").pk,
            "region_code": "27",
            "on": date(2025, 9, 1).isoformat(),
        }
        result = sweep_entitlements.apply(kwargs=kwargs)
        assert result.failed()
        assert isinstance(result.result, MeasureNotInRegion)
        assert not Entitlement.objects.exists()

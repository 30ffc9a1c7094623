"""The seed catalogue of measures and `manage.py load_measures`."""

from __future__ import annotations

from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Q

from measures.enums import Channel, MeasureLevel, RuleStatus
from measures.models import ChannelPolicy, Measure, RuleVersion
from measures.models.rules import RULE_FIELDS
from measures.rules import rule_check
from measures.services.catalogue import CATALOGUE_FILE, CatalogueInvalid, catalogue_load
from platform_core.enums import Power
from platform_core.models import Organisation

pytestmark = pytest.mark.django_db

SMALL = """\
organisations:
  dep:
    name: Департамент труда и социальной защиты населения города Москвы
    kind: regional_ministry
    region: "77"
measures:
  test.first:
    name: Первая мера
    legal_act: Акт
    level: regional
    region: "77"
    establishing_authority: dep
    operator: dep
    provision: cash_once
    payee_role: parent
    mode: proactive
    valid_from: 2024-01-01
    rules:
      eligibility: alive and children(max_age=1) >= 1
      amount: "1000"
  test.second:
    name: Вторая мера
    legal_act: Акт
    level: regional
    region: "77"
    establishing_authority: dep
    operator: dep
    provision: cash_monthly
    payee_role: parent
    mode: application
    valid_from: 2024-01-01
    rules:
      eligibility: |
        alive
        and children(max_age=3) >= 1
      amount: 500 * children(max_age=3)
      period_months: "12"
"""


@pytest.fixture
def regions(region_27, region_77):
    return region_27, region_77


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalogue.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def write_small(tmp_path):
    return lambda text=SMALL: write(tmp_path, text)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(CatalogueInvalid) as caught:
        catalogue_load(path=path, as_of=date(2025, 6, 1))
    return caught.value.problems


def place(text: str, token: str) -> tuple[int, int]:
    """The 1-based line and column of the first occurrence of token in text."""
    for number, line in enumerate(text.splitlines(), start=1):
        if token in line:
            return number, line.index(token) + 1
    raise AssertionError(token)


def test_shipped_catalogue_loads_each_measure_with_a_published_rule_that_checks(regions):
    summary = catalogue_load(as_of=date(2025, 6, 1))

    measures = Measure.objects.all()
    assert measures.filter(region_id="77").count() >= 17
    assert measures.filter(level=MeasureLevel.FEDERAL, region__isnull=True).count() >= 4
    assert measures.filter(region_id="27").count() >= 2
    assert summary.counts["measures"].created == measures.count()
    for measure in measures:
        rules = measure.rule_versions.all()
        assert [(r.version, r.status) for r in rules] == [(1, RuleStatus.PUBLISHED)]
        assert rules[0].published_at is not None
        for name, value_type in RULE_FIELDS.items():
            if getattr(rules[0], name):
                rule_check(getattr(rules[0], name), expect=value_type)
        assert measure.channel_policies.exists()
        if measure.is_demo:
            assert measure.demo_note
    sfr = Organisation.objects.get(name="Социальный фонд России")
    assert set(measures.filter(level=MeasureLevel.FEDERAL).values_list("operator", flat=True)) == {
        sfr.pk
    }
    birth = Measure.objects.get(code="federal.birth_allowance")
    assert (birth.legal_act_date, birth.legal_article) == (date(1995, 5, 19), "ст. 11")
    assert "moscow.large_family_cost_of_living" in set(
        Measure.objects.get(code="moscow.cost_of_living").excludes.values_list("code", flat=True)
    )


def test_second_load_changes_nothing(regions):
    catalogue_load(as_of=date(2025, 6, 1))
    counts = (Measure.objects.count(), ChannelPolicy.objects.count(), RuleVersion.objects.count())

    again = catalogue_load(as_of=date(2025, 6, 2))

    assert again.created == again.updated == 0
    assert all(c.unchanged > 0 for c in again.counts.values() if c is not again.counts["transfers"])
    assert (
        Measure.objects.count(),
        ChannelPolicy.objects.count(),
        RuleVersion.objects.count(),
    ) == counts


def test_existing_demo_organisations_are_reused_and_keep_their_powers(
    regions, ministry_77, write_small
):
    catalogue_load(path=write_small(), as_of=date(2025, 6, 1))

    assert Organisation.objects.filter(name=ministry_77.name).count() == 1
    ministry_77.refresh_from_db()
    assert Power.ASSIGN_MEASURES in ministry_77.powers
    assert Measure.objects.get(code="test.first").operator == ministry_77


def test_unknown_fact_refuses_the_file_naming_measure_field_line_and_column(
    regions, write_small, english_messages
):
    text = SMALL.replace("and children(max_age=3)", "and childs(max_age=3)")

    problems = problems_of(write_small(text))

    line, column = place(text, "childs")
    assert problems == [
        f"catalogue.yaml, measure test.second, field rules.eligibility, line {line}, "
        f"column {column}: Unknown fact 'childs'. Did you mean 'children'?"
    ]
    assert not Measure.objects.exists()
    assert not Organisation.objects.exists()


def test_every_problem_is_reported_with_its_place(regions, write_small, english_messages):
    text = (
        SMALL.replace("    operator: dep\n    provision: cash_once", "    operator: nobody\n")
        .replace("mode: application", "mode: by_pigeon\n    colour: blue")
        .replace('amount: "1000"', "amount: 10 +")
    )

    problems = problems_of(write_small(text))

    joined = "\n".join(problems)
    line, column = place(text, "nobody")
    assert (
        f"measure test.first, field operator, line {line}, column {column}: "
        "Unknown organisation nobody" in joined
    )
    assert "measure test.first, field provision" in joined and "The field is missing." in joined
    assert "measure test.second, field mode" in joined and "by_pigeon is not one of" in joined
    line, column = place(text, "blue")
    assert f"measure test.second, field colour, line {line}, column {column}: Unknown field" in (
        joined
    )
    assert "measure test.first, field rules.amount" in joined and "ends too early" in joined
    assert len(problems) == 5


def test_yaml_syntax_error_reports_line_and_column(regions, write_small, english_messages):
    text = SMALL.replace("  test.second:\n", "  test.second: [\n")

    problems = problems_of(write_small(text))

    line, _column = place(text, "test.second: [")
    assert len(problems) == 1
    assert problems[0].startswith("catalogue.yaml, line ")
    assert "YAML syntax error" in problems[0]
    reported = int(problems[0].split("line ")[1].split(",")[0])
    assert reported > line


def test_unknown_region_and_ambiguous_organisation_are_reported(
    region_27, write_small, english_messages, ministry_27
):
    Organisation.objects.create(name=ministry_27.name, kind=ministry_27.kind, region=region_27)
    text = SMALL.replace(
        "measures:\n",
        "  min:\n    name: Министерство социальной защиты Хабаровского края\n"
        '    kind: regional_ministry\n    region: "27"\nmeasures:\n',
    )

    problems = "\n".join(problems_of(write_small(text)))

    assert "organisation dep, field region" in problems and "Unknown region 77" in problems
    assert "measure test.first, field region" in problems
    assert "organisation min, field name" in problems and "Several organisations" in problems
    assert not Measure.objects.exists()


def test_changed_rule_text_publishes_version_2_and_keeps_version_1(regions, write_small):
    catalogue_load(path=write_small(), as_of=date(2025, 6, 1))
    changed = SMALL.replace('amount: "1000"', 'valid_from: 2025-03-01\n      amount: "1500"')

    summary = catalogue_load(path=write_small(changed), as_of=date(2025, 6, 1))

    assert summary.counts["rule_versions"].created == 1
    first, second = RuleVersion.objects.filter(measure__code="test.first").order_by("version")
    assert (first.version, first.amount, first.valid_from, first.valid_to) == (
        1,
        "1000",
        date(2024, 1, 1),
        date(2025, 2, 28),
    )
    assert first.status == RuleStatus.PUBLISHED
    assert (second.version, second.amount, second.valid_from, second.valid_to) == (
        2,
        "1500",
        date(2025, 3, 1),
        None,
    )
    assert second.status == RuleStatus.PUBLISHED and second.published_at
    assert catalogue_load(path=write_small(changed)).counts["rule_versions"].created == 0


def test_changed_rule_without_a_later_date_comes_into_force_on_the_day_of_the_load(
    regions, write_small
):
    catalogue_load(path=write_small(), as_of=date(2025, 6, 1))

    catalogue_load(path=write_small(SMALL.replace('"1000"', '"1200"')), as_of=date(2025, 7, 1))

    latest = RuleVersion.objects.filter(measure__code="test.first").order_by("-version")[0]
    assert (latest.version, latest.valid_from) == (2, date(2025, 7, 1))


def test_moscow_parents_apply_in_person_until_2016_03_01_and_only_on_the_portal_after(regions):
    catalogue_load(as_of=date(2025, 6, 1))

    def channels(role: str, on: date) -> set[str]:
        policies = ChannelPolicy.objects.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=on),
            measure__code="moscow.child_allowance",
            applicant_role=role,
            valid_from__lte=on,
        )
        return {c for p in policies for c in p.channels}

    assert channels("parent", date(2016, 2, 29)) == {
        Channel.PORTAL,
        Channel.CLIENT_OFFICE,
        Channel.MFC,
    }
    assert channels("parent", date(2016, 3, 1)) == {Channel.PORTAL}
    assert channels("guardian", date(2016, 3, 1)) == {Channel.CLIENT_OFFICE, Channel.MFC}
    assert channels("guardian", date(2010, 1, 1)) == {Channel.CLIENT_OFFICE, Channel.MFC}


def test_command_prints_the_summary(regions, english_messages):
    out = StringIO()

    call_command("load_measures", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["kind", "created", "updated", "unchanged"]
    assert lines[2].split() == ["measures", str(Measure.objects.count()), "0", "0"]
    assert f"Measures catalogue loaded from {CATALOGUE_FILE}." in lines[-1]


def test_command_writes_each_problem_to_stderr_and_fails(regions, write_small, english_messages):
    path = write_small(SMALL.replace("level: regional", "level: galactic"))
    err = StringIO()

    with pytest.raises(CommandError, match="2 problem"):
        call_command("load_measures", "--file", str(path), stderr=err)

    assert err.getvalue().count("galactic is not one of") == 2
    assert not Measure.objects.exists()


def test_command_reports_a_missing_file(tmp_path, english_messages):
    err = StringIO()

    with pytest.raises(CommandError):
        call_command("load_measures", "--file", str(tmp_path / "none.yaml"), stderr=err)

    assert "The file is missing." in err.getvalue()


def test_supervisors_edit_the_catalogue_officers_and_auditors_view_it(db):
    from django.contrib.auth.models import Group

    from platform_core.enums import Role
    from platform_core.roles import roles_sync

    roles_sync()

    def codenames(role: str) -> set[str]:
        return set(
            Group.objects.get(name=role)
            .permissions.filter(content_type__app_label="measures")
            .values_list("codename", flat=True)
        )

    assert {"view_measure", "add_measure", "change_measure", "change_ruleversion"} <= codenames(
        Role.SUPERVISOR
    )
    # Officers write their region's rules but not the catalogue; auditors only read.
    assert {c for c in codenames(Role.OFFICER) if not c.startswith("view_")} == {
        "add_ruleversion",
        "change_ruleversion",
    }
    assert "view_measure" in codenames(Role.OFFICER)
    assert "view_measure" in codenames(Role.AUDITOR)
    assert not {c for c in codenames(Role.AUDITOR) if not c.startswith("view_")}

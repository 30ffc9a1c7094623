"""The measures API: each endpoint's answer, its 400s naming the field, and jurisdiction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from measures.enums import Outcome, RuleStatus
from measures.models import Entitlement, RuleVersion
from measures.rules.syntax import MAX_DEPTH
from measures.services.entitlements import entitlement_count, entitlement_sweep
from platform_core.models import PersonalFileView
from tests.measures.families import (
    ON,
    SCHOOLCHILD,
    UNIFIED,
    measure,
)

pytestmark = pytest.mark.django_db

VALID_RULE = "alive and large_family and children(min_age=7, max_age=18) >= 2"


def api(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def post(client: Client, url: str, body: dict | None = None):  # type: ignore[no-untyped-def]
    return client.post(url, body or {}, content_type="application/json")


def rules_url(code: str) -> str:
    return reverse("measure-rules", args=[code])


def draft(code: str, user, valid_from: str = "2026-01-01", **rules) -> RuleVersion:  # type: ignore[no-untyped-def]
    response = post(
        api(user),
        rules_url(code),
        {"eligibility": VALID_RULE, "amount": "6000", "valid_from": valid_from, **rules},
    )
    assert response.status_code == 201, response.content
    return RuleVersion.objects.get(pk=response.json()["id"])


class TestFactsAndCheck:
    def test_facts_name_their_type_and_owner(self, officer_27):
        facts = {f["name"]: f for f in api(officer_27).get(reverse("fact-list")).json()}
        assert facts["family_income_per_capita"]["type"] == "number"
        assert facts["family_income_per_capita"]["owner"] == "tax_service"
        assert [p["name"] for p in facts["children"]["params"]] == ["min_age", "max_age"]

    def test_a_valid_rule_gives_its_type_and_facts(self, officer_27):
        response = post(api(officer_27), reverse("rule-check"), {"text": VALID_RULE})
        assert response.status_code == 200
        assert response.json()["type"] == "bool"
        assert set(response.json()["facts"]) >= {"alive", "large_family", "children"}

    def test_an_invalid_rule_lists_problems_with_line_and_column(self, officer_27):
        text = "alive\nand agee >= 18"
        response = post(api(officer_27), reverse("rule-check"), {"text": text})
        assert response.status_code == 400
        problems = response.json()["problems"]
        assert problems and (problems[0]["line"], problems[0]["column"]) == (2, 5)
        assert "agee" in problems[0]["message"]

    def test_a_rule_of_the_wrong_type_is_a_problem(self, officer_27):
        response = post(api(officer_27), reverse("rule-check"), {"text": "age", "type": "bool"})
        assert response.status_code == 400
        assert response.json()["problems"][0]["line"] == 1

    @pytest.mark.parametrize(
        ("body", "field"), [({}, "text"), ({"text": "age", "type": "date"}, "type")]
    )
    def test_bad_input_names_the_field(self, officer_27, body, field):
        response = post(api(officer_27), reverse("rule-check"), body)
        assert response.status_code == 400
        assert field in response.json()

    @pytest.mark.parametrize(
        "text", ["not " * 3000 + "alive", "age >= 1" + " and age >= 1" * 3000, "-" * 3000 + "1"]
    )
    def test_a_rule_nested_too_deeply_is_a_problem_not_a_500(self, officer_27, text):
        response = post(api(officer_27), reverse("rule-check"), {"text": text, "type": "bool"})
        assert response.status_code == 400
        [problem] = response.json()["problems"]
        assert "nested too deeply" in problem["message"]

    def test_a_rule_at_the_depth_limit_is_valid(self, officer_27):
        at_limit = "alive" + " and alive" * (MAX_DEPTH - 1)
        check = reverse("rule-check")
        assert post(api(officer_27), check, {"text": at_limit}).status_code == 200
        assert post(api(officer_27), check, {"text": at_limit + " and alive"}).status_code == 400

    def test_anonymous_callers_are_refused(self, loaded_catalogue):
        assert Client().get(reverse("fact-list")).status_code in (401, 403)


class TestCalculator:
    def test_a_large_family_gets_the_schoolchild_payment(self, officer_27, loaded_catalogue):
        body = {
            "region": "27",
            "as_of": ON.isoformat(),
            "age": 40,
            "sex": "F",
            "children": [{"age": 3}, {"age": 7}, {"age": 12}],
            "large_family": True,
            "monthly_family_income": "30000",
        }
        response = post(api(officer_27), reverse("calculator"), body)
        assert response.status_code == 200
        outcomes = {o["measure"]: o for o in response.json()}
        assert outcomes[SCHOOLCHILD]["outcome"] == Outcome.ELIGIBLE
        assert outcomes[SCHOOLCHILD]["amount"] == "10000.00"
        assert not any(code.startswith("moscow.") for code in outcomes)
        # 30 000 for four persons is 7 500 a head, under the minimum of 20 000.
        assert outcomes[UNIFIED]["outcome"] == Outcome.ELIGIBLE
        assert outcomes[UNIFIED]["amount"] == "28500.00"

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"children": [{"age": 41}]}, "children"),
            ({"children": [{"age": 40}]}, "children"),
            ({"monthly_family_income": "-1"}, "monthly_family_income"),
            ({"age": 5}, "age"),
            ({"sex": "X"}, "sex"),
            ({"as_of": "2025-13-01"}, "as_of"),
            ({"region": "99"}, "region"),
            ({"region": "999"}, "region"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_field(self, officer_27, loaded_catalogue, change, field):
        body = {"region": "27", "age": 40, "sex": "F", **change}
        response = post(api(officer_27), reverse("calculator"), body)
        assert response.status_code == 400
        answer = response.json()
        assert field in answer or answer.get("field") == field


class TestPersonEntitlements:
    def test_lists_the_catalogue_for_the_person_and_logs_the_view(self, officer_27, families):
        url = reverse("person-entitlements", args=[families.mother.pk])
        response = api(officer_27).get(url, {"on": ON.isoformat()})

        assert response.status_code == 200
        outcomes = {o["measure"]: o for o in response.json()}
        assert outcomes[SCHOOLCHILD]["outcome"] == Outcome.ELIGIBLE
        assert outcomes[SCHOOLCHILD]["amount"] == "10000.00"
        assert outcomes[UNIFIED]["outcome"] == Outcome.UNKNOWN
        missing = outcomes[UNIFIED]["explanation"]["missing"]
        assert [(m["fact"], m["owner"]) for m in missing] == [
            ("family_income_per_capita", "tax_service")
        ]
        view = PersonalFileView.objects.get()
        assert (view.actor, view.subject_type, view.subject_id, view.channel) == (
            officer_27,
            "registries.person",
            str(families.mother.pk),
            "api",
        )

    def test_bad_date_is_a_400_and_no_file_is_opened(self, officer_27, families):
        url = reverse("person-entitlements", args=[families.mother.pk])
        response = api(officer_27).get(url, {"on": "01.09.2025"})
        assert response.status_code == 400
        assert "on" in response.json()
        assert not PersonalFileView.objects.exists()

    def test_another_regions_officer_gets_404_and_nothing_is_logged(self, officer_77, families):
        url = reverse("person-entitlements", args=[families.mother.pk])
        assert api(officer_77).get(url).status_code == 404
        assert not PersonalFileView.objects.exists()


class TestCatalogue:
    def test_officer_sees_federal_and_own_regions_measures(self, officer_77, loaded_catalogue):
        client = api(officer_77)
        codes = []
        url = reverse("measure-list")
        while url:
            page = client.get(url).json()
            codes += [m["code"] for m in page["results"]]
            url = page["next"]
        assert UNIFIED in codes and "moscow.child_allowance" in codes
        assert SCHOOLCHILD not in codes
        assert client.get(reverse("measure-detail", args=[UNIFIED])).status_code == 200
        assert client.get(reverse("measure-detail", args=[SCHOOLCHILD])).status_code == 404
        assert client.get(rules_url(UNIFIED)).status_code == 200
        assert client.get(rules_url(SCHOOLCHILD)).status_code == 404

    def test_a_measure_names_the_owners_of_its_data(self, officer_27, loaded_catalogue):
        body = api(officer_27).get(reverse("measure-detail", args=[UNIFIED])).json()
        assert body["data_owners"]["income"] == "tax_service"


class TestRuleVersions:
    def test_a_draft_is_created_with_the_next_version(self, officer_27, loaded_catalogue):
        version = draft(SCHOOLCHILD, officer_27)
        assert (version.version, version.status, version.created_by) == (
            2,
            RuleStatus.DRAFT,
            officer_27,
        )
        listed = api(officer_27).get(rules_url(SCHOOLCHILD)).json()
        assert [v["version"] for v in listed] == [2, 1]

    @pytest.mark.parametrize(
        ("rules", "field", "place"),
        [
            ({"eligibility": "alive and\n  age >>= 18"}, "eligibility", "line 2, column"),
            ({"amount": "5000 *"}, "amount", "line 1, column"),
            ({"period_months": "alive"}, "period_months", "line 1, column 1"),
        ],
    )
    def test_an_invalid_rule_is_a_400_naming_field_line_and_column(
        self, officer_27, loaded_catalogue, rules, field, place
    ):
        body = {"eligibility": VALID_RULE, "valid_from": "2026-01-01", **rules}
        response = post(api(officer_27), rules_url(SCHOOLCHILD), body)
        assert response.status_code == 400
        assert list(response.json()) == [field]
        assert response.json()[field][0].startswith(place)
        assert RuleVersion.objects.filter(measure__code=SCHOOLCHILD).count() == 1

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"valid_from": "2026-01-01"}, "eligibility"),
            ({"eligibility": VALID_RULE}, "valid_from"),
            ({"eligibility": VALID_RULE, "valid_from": "soon"}, "valid_from"),
            (
                {"eligibility": VALID_RULE, "valid_from": "2026-01-01", "valid_to": "2025-01-01"},
                "valid_to",
            ),
        ],
    )
    def test_bad_input_names_the_field(self, officer_27, loaded_catalogue, body, field):
        response = post(api(officer_27), rules_url(SCHOOLCHILD), body)
        assert response.status_code == 400
        assert field in response.json()

    def test_publishing_supersedes_the_open_ended_version(self, officer_27, loaded_catalogue):
        version = draft(SCHOOLCHILD, officer_27, valid_from="2026-01-01")

        response = post(api(officer_27), reverse("rule-version-publish", args=[version.pk]))

        assert response.status_code == 200
        assert response.json()["status"] == RuleStatus.PUBLISHED
        first = RuleVersion.objects.get(measure__code=SCHOOLCHILD, version=1)
        assert first.valid_to == date(2025, 12, 31)
        version.refresh_from_db()
        assert (version.status, version.published_by) == (RuleStatus.PUBLISHED, officer_27)
        # The old version decides until the day before, the new one from its date.
        counts_old = entitlement_count(
            measure=measure(SCHOOLCHILD), region_code="27", on=date(2025, 12, 31)
        )
        assert sum(counts_old.values()) == 0  # no persons yet, but a rule in force
        summary = entitlement_sweep(
            measure=measure(SCHOOLCHILD), region_code="27", on=date(2026, 1, 1)
        )
        assert summary.rule_version == 2

    def test_publishing_twice_is_a_409(self, officer_27, loaded_catalogue):
        version = draft(SCHOOLCHILD, officer_27)
        client = api(officer_27)
        assert post(client, reverse("rule-version-publish", args=[version.pk])).status_code == 200
        again = post(client, reverse("rule-version-publish", args=[version.pk]))
        assert again.status_code == 409
        assert again.json()["code"] == "rule_not_draft"

    def test_publishing_before_the_current_version_is_refused(self, officer_27, loaded_catalogue):
        version = draft(SCHOOLCHILD, officer_27, valid_from="2024-01-01")
        response = post(api(officer_27), reverse("rule-version-publish", args=[version.pk]))
        assert response.status_code == 400
        assert "choose a later date" in response.json()["valid_from"][0]
        version.refresh_from_db()
        assert version.status == RuleStatus.DRAFT
        assert RuleVersion.objects.get(measure__code=SCHOOLCHILD, version=1).valid_to is None

    def test_preview_counts_match_the_count_and_the_sample_is_explained(self, officer_27, families):
        version = draft(SCHOOLCHILD, officer_27, eligibility="alive and children() >= 1")
        url = reverse("rule-version-preview", args=[version.pk])

        response = api(officer_27).get(url, {"region": "27", "on": ON.isoformat()})

        assert response.status_code == 200
        body = response.json()
        assert (body["eligible"], body["ineligible"], body["unknown"]) == (2, 6, 0)
        # The published version's count over the same persons.
        published = entitlement_count(measure=measure(SCHOOLCHILD), region_code="27", on=ON)
        assert sum(published.values()) == body["eligible"] + body["ineligible"] + body["unknown"]
        assert {s["person"] for s in body["sample"]} == {families.mother.pk, families.poor.pk}
        for sample in body["sample"]:
            assert sample["outcome"] == Outcome.ELIGIBLE
            assert sample["explanation"]["conditions"]
            assert sample["explanation"]["facts"]
        assert not Entitlement.objects.exists()

    def test_preview_of_the_published_version_matches_entitlement_count(self, officer_27, families):
        version = RuleVersion.objects.get(measure__code=UNIFIED)
        url = reverse("rule-version-preview", args=[version.pk])
        body = api(officer_27).get(url, {"on": ON.isoformat()}).json()  # the officer's region
        counts = entitlement_count(measure=measure(UNIFIED), region_code="27", on=ON)
        assert (body["eligible"], body["ineligible"], body["unknown"]) == (
            counts[Outcome.ELIGIBLE],
            counts[Outcome.INELIGIBLE],
            counts[Outcome.UNKNOWN],
        )
        assert body["eligible"] >= 1 and body["unknown"] >= 1

    def test_a_rule_at_the_depth_limit_is_previewed_in_sql_and_python(self, officer_27, families):
        deep = "children() >= 1" + " and alive" * (MAX_DEPTH - 2)  # the comparison is 2 deep
        version = draft(SCHOOLCHILD, officer_27, eligibility=deep)
        url = reverse("rule-version-preview", args=[version.pk])
        response = api(officer_27).get(url, {"region": "27", "on": ON.isoformat()})
        assert response.status_code == 200
        assert response.json()["eligible"] == 2
        assert {s["outcome"] for s in response.json()["sample"]} == {Outcome.ELIGIBLE}

    def test_preview_with_a_bad_date_is_a_400(self, officer_27, families):
        version = RuleVersion.objects.get(measure__code=UNIFIED)
        url = reverse("rule-version-preview", args=[version.pk])
        response = api(officer_27).get(url, {"on": "yesterday"})
        assert response.status_code == 400
        assert "on" in response.json()


class TestRuleVersionJurisdiction:
    def test_another_region_cannot_create_or_publish_a_regions_rules(
        self, officer_77, officer_27, loaded_catalogue
    ):
        client = api(officer_77)
        body = {"eligibility": VALID_RULE, "valid_from": "2026-01-01"}
        assert post(client, rules_url(SCHOOLCHILD), body).status_code in (403, 404)
        version = draft(SCHOOLCHILD, officer_27)
        assert post(client, reverse("rule-version-publish", args=[version.pk])).status_code in (
            403,
            404,
        )
        assert client.get(reverse("rule-version-detail", args=[version.pk])).status_code == 404
        assert RuleVersion.objects.filter(measure__code=SCHOOLCHILD).count() == 2
        version.refresh_from_db()
        assert version.status == RuleStatus.DRAFT

    def test_a_region_reads_but_cannot_change_federal_rules(
        self, officer_77, federal_officer, loaded_catalogue
    ):
        client = api(officer_77)
        body = {"eligibility": VALID_RULE, "valid_from": "2026-01-01"}
        assert post(client, rules_url(UNIFIED), body).status_code in (403, 404)
        federal = RuleVersion.objects.get(measure__code=UNIFIED)
        assert client.get(reverse("rule-version-detail", args=[federal.pk])).status_code == 200
        publish = reverse("rule-version-publish", args=[federal.pk])
        assert post(client, publish).status_code in (403, 404)
        assert post(api(federal_officer), rules_url(UNIFIED), body).status_code == 201

    def test_preview_in_a_region_without_visible_persons_is_refused(self, officer_77, families):
        federal = RuleVersion.objects.get(measure__code=UNIFIED)
        url = reverse("rule-version-preview", args=[federal.pk])
        response = api(officer_77).get(url, {"region": "27", "on": ON.isoformat()})
        assert response.status_code == 400
        assert "region" in response.json()

    def test_another_regions_measure_is_not_previewed_here(self, federal_officer, families):
        moscow = RuleVersion.objects.get(measure__code="moscow.child_allowance")
        url = reverse("rule-version-preview", args=[moscow.pk])
        response = api(federal_officer).get(url, {"region": "27", "on": ON.isoformat()})
        assert response.status_code == 400
        assert response.json()["field"] == "region"


class TestStoredEntitlements:
    @pytest.fixture
    def swept(self, families):
        entitlement_sweep(measure=measure(SCHOOLCHILD), region_code="27", on=ON)
        return families

    def test_the_region_lists_and_explains_its_entitlements(self, officer_27, swept):
        client = api(officer_27)
        listed = client.get(reverse("entitlement-list"), {"measure": SCHOOLCHILD}).json()
        assert listed["count"] == Entitlement.objects.count()
        mother = Entitlement.objects.get(person=swept.mother)
        detail = client.get(reverse("entitlement-detail", args=[mother.pk])).json()
        assert (detail["outcome"], Decimal(detail["amount"])) == (
            Outcome.ELIGIBLE,
            Decimal("10000"),
        )
        conditions = {c["condition"]: c["value"] for c in detail["explanation"]["conditions"]}
        assert conditions["large_family"] is True
        assert conditions["children(min_age=7, max_age=18) >= 1"] is True
        eligible = client.get(reverse("entitlement-list"), {"outcome": "eligible"}).json()
        assert [e["person"] for e in eligible["results"]] == [swept.mother.pk]

    def test_another_region_sees_none_of_them(self, officer_77, swept):
        client = api(officer_77)
        assert client.get(reverse("entitlement-list")).json()["count"] == 0
        mother = Entitlement.objects.get(person=swept.mother)
        assert client.get(reverse("entitlement-detail", args=[mother.pk])).status_code == 404

    def test_stored_entitlements_cannot_be_written_through_the_api(self, officer_27, swept):
        mother = Entitlement.objects.get(person=swept.mother)
        url = reverse("entitlement-detail", args=[mother.pk])
        response = api(officer_27).patch(url, {"amount": "1"}, content_type="application/json")
        assert response.status_code == 405

"""The back office of measures: catalogue and facts pages, rule versions, entitlements."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from measures.enums import Outcome, RuleStatus
from measures.models import Entitlement, RuleVersion
from measures.services.entitlements import entitlement_count, entitlement_sweep
from platform_core.enums import Role
from tests.conftest import make_staff
from tests.measures.families import (
    ON,
    SCHOOLCHILD,
    UNIFIED,
    measure,
    officer_in_group,
    supervisor,
)

pytestmark = pytest.mark.django_db


def admin_client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def supervisor_27(ministry_27):
    return supervisor("supervisor27", ministry_27)


@pytest.fixture
def supervisor_77(ministry_77):
    return supervisor("supervisor77", ministry_77)


def published(code: str) -> RuleVersion:
    return RuleVersion.objects.get(measure__code=code, status=RuleStatus.PUBLISHED)


def draft_form(code: str, **fields) -> dict:  # type: ignore[no-untyped-def]
    return {
        "measure": measure(code).pk,
        "valid_from": "2026-01-01",
        "valid_to": "",
        "eligibility": "alive and large_family",
        "amount": "7000",
        "period_months": "",
        "note": "",
        **fields,
    }


class TestCatalogue:
    def test_the_change_list_and_the_facts_page_render_for_an_officer(
        self, officer_27, loaded_catalogue
    ):
        client = admin_client(officer_in_group(officer_27))
        changelist = client.get(reverse("admin:measures_measure_changelist"))
        assert changelist.status_code == 200
        body = changelist.content.decode()
        assert SCHOOLCHILD in body and UNIFIED in body
        assert "moscow.child_allowance" not in body
        assert reverse("admin:measures_measure_facts") in body

        facts = client.get(reverse("admin:measures_measure_facts"))
        assert facts.status_code == 200
        assert "family_income_per_capita" in facts.content.decode()
        assert "tax_service" in facts.content.decode()

    def test_a_measure_renders_with_its_rule_versions(self, officer_27, loaded_catalogue):
        client = admin_client(officer_in_group(officer_27))
        url = reverse("admin:measures_measure_change", args=[measure(SCHOOLCHILD).pk])
        response = client.get(url)
        assert response.status_code == 200
        assert "children(min_age=7, max_age=18)" in response.content.decode()


class TestRuleVersions:
    def test_another_region_does_not_see_a_regions_rule_versions(
        self, supervisor_77, loaded_catalogue
    ):
        client = admin_client(supervisor_77)
        changelist = client.get(reverse("admin:measures_ruleversion_changelist"))
        assert changelist.status_code == 200
        shown = {str(v.measure_id) for v in changelist.context["cl"].result_list}
        assert str(measure(SCHOOLCHILD).pk) not in shown
        assert str(measure("moscow.child_allowance").pk) in shown
        other = reverse("admin:measures_ruleversion_change", args=[published(SCHOOLCHILD).pk])
        assert client.get(other).status_code == 302  # "does not exist", back to the index

    def test_another_region_cannot_add_a_draft_to_a_regions_measure(
        self, supervisor_77, loaded_catalogue
    ):
        response = admin_client(supervisor_77).post(
            reverse("admin:measures_ruleversion_add"), draft_form(SCHOOLCHILD)
        )
        assert response.status_code == 200
        assert "measure" in response.context["adminform"].form.errors
        assert RuleVersion.objects.filter(measure__code=SCHOOLCHILD).count() == 1

    def test_a_published_version_is_read_only(self, supervisor_27, loaded_catalogue):
        version = published(SCHOOLCHILD)
        url = reverse("admin:measures_ruleversion_change", args=[version.pk])
        client = admin_client(supervisor_27)

        page = client.get(url)
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()

        response = client.post(url, draft_form(SCHOOLCHILD, eligibility="alive"))
        assert response.status_code == 403
        version.refresh_from_db()
        assert version.eligibility.startswith("alive and large_family and children")
        assert version.valid_from.isoformat() == "2024-01-01"

    def test_an_invalid_rule_shows_the_error_with_line_and_column(
        self, supervisor_27, loaded_catalogue
    ):
        response = admin_client(supervisor_27).post(
            reverse("admin:measures_ruleversion_add"),
            draft_form(SCHOOLCHILD, eligibility="alive and\n  agee >= 18"),
        )
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert errors["eligibility"][0].startswith("line 2, column 3")
        assert "line 2, column 3" in response.content.decode()
        assert RuleVersion.objects.filter(measure__code=SCHOOLCHILD).count() == 1

    def test_a_valid_draft_is_added_with_the_next_version(self, supervisor_27, loaded_catalogue):
        response = admin_client(supervisor_27).post(
            reverse("admin:measures_ruleversion_add"), draft_form(SCHOOLCHILD)
        )
        assert response.status_code == 302
        version = RuleVersion.objects.get(measure__code=SCHOOLCHILD, version=2)
        assert (version.status, version.created_by) == (RuleStatus.DRAFT, supervisor_27)

    def test_the_publish_action_publishes_a_draft(self, supervisor_27, loaded_catalogue):
        client = admin_client(supervisor_27)
        client.post(reverse("admin:measures_ruleversion_add"), draft_form(SCHOOLCHILD))
        version = RuleVersion.objects.get(measure__code=SCHOOLCHILD, version=2)

        response = client.post(
            reverse("admin:measures_ruleversion_changelist"),
            {"action": "publish", "_selected_action": [version.pk]},
            follow=True,
        )

        assert response.status_code == 200
        version.refresh_from_db()
        assert (version.status, version.published_by) == (RuleStatus.PUBLISHED, supervisor_27)
        first = RuleVersion.objects.get(measure__code=SCHOOLCHILD, version=1)
        assert first.valid_to.isoformat() == "2025-12-31"
        assert "published" in response.content.decode()

    def test_publishing_a_published_version_reports_an_error(self, supervisor_27, loaded_catalogue):
        version = published(SCHOOLCHILD)
        response = admin_client(supervisor_27).post(
            reverse("admin:measures_ruleversion_changelist"),
            {"action": "publish", "_selected_action": [version.pk]},
            follow=True,
        )
        assert response.status_code == 200
        assert "Only a draft can be published." in response.content.decode()

    def test_a_user_who_may_only_view_cannot_publish(
        self, ministry_27, supervisor_27, loaded_catalogue
    ):
        admin_client(supervisor_27).post(
            reverse("admin:measures_ruleversion_add"), draft_form(SCHOOLCHILD)
        )
        version = RuleVersion.objects.get(measure__code=SCHOOLCHILD, version=2)

        auditor = make_staff("auditor27", ministry_27, role=Role.AUDITOR)
        admin_client(auditor).post(
            reverse("admin:measures_ruleversion_changelist"),
            {"action": "publish", "_selected_action": [version.pk]},
        )

        version.refresh_from_db()
        assert version.status == RuleStatus.DRAFT

    def test_the_preview_page_renders_the_counts(self, supervisor_27, families):
        version = published(SCHOOLCHILD)
        response = admin_client(supervisor_27).get(
            reverse("admin:measures_ruleversion_preview", args=[version.pk])
        )
        assert response.status_code == 200
        preview = response.context["preview"]
        counts = entitlement_count(
            measure=measure(SCHOOLCHILD), region_code="27", on=timezone.localdate()
        )
        assert (preview.eligible, preview.ineligible, preview.unknown) == (
            counts[Outcome.ELIGIBLE],
            counts[Outcome.INELIGIBLE],
            counts[Outcome.UNKNOWN],
        )
        body = response.content.decode()
        assert f"Not eligible: {preview.ineligible}" in body
        assert f"Eligible: {preview.eligible}" in body

    def test_the_preview_shows_no_persons_of_another_region(self, supervisor_77, families):
        version = published(UNIFIED)  # federal: the Moscow officer may read it
        response = admin_client(supervisor_77).get(
            reverse("admin:measures_ruleversion_preview", args=[version.pk]), {"region": "27"}
        )
        assert response.status_code == 200
        assert response.context["preview"] is None
        body = response.content.decode()
        for who in (families.mother, families.poor, families.single):
            assert who.last_name not in body

    def test_the_preview_of_another_regions_measure_is_refused_not_a_500(
        self, federal_officer, families
    ):
        federal_officer.is_superuser = True
        federal_officer.save()
        version = published("moscow.child_allowance")
        response = admin_client(federal_officer).get(
            reverse("admin:measures_ruleversion_preview", args=[version.pk]), {"region": "27"}
        )
        assert response.status_code == 200
        assert response.context["preview"] is None
        assert "is not given in region 27" in response.content.decode()


class TestEntitlements:
    def test_the_change_view_shows_the_explanation(self, officer_27, families):
        entitlement_sweep(measure=measure(SCHOOLCHILD), region_code="27", on=ON)
        entitlement = Entitlement.objects.get(person=families.mother)
        client = admin_client(officer_in_group(officer_27))

        response = client.get(reverse("admin:measures_entitlement_change", args=[entitlement.pk]))

        assert response.status_code == 200
        body = response.content.decode()
        assert "<code>large_family</code>: True" in body
        assert "<code>children(max_age=18, min_age=7)</code> = 2" in body
        assert 'name="_save"' not in body

    def test_another_region_does_not_see_them(self, officer_77, families):
        entitlement_sweep(measure=measure(SCHOOLCHILD), region_code="27", on=ON)
        client = admin_client(officer_in_group(officer_77))
        changelist = client.get(reverse("admin:measures_entitlement_changelist"))
        assert changelist.status_code == 200
        assert list(changelist.context["cl"].result_list) == []
        entitlement = Entitlement.objects.get(person=families.mother)
        url = reverse("admin:measures_entitlement_change", args=[entitlement.pk])
        assert client.get(url).status_code == 302

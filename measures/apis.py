"""REST API of the measures catalogue, rules and entitlements: one domain call per endpoint."""

from __future__ import annotations

from datetime import date

import django_filters
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from measures.models import Entitlement, Measure, RuleVersion
from measures.rules import FACTS, RuleInvalid, rule_check
from measures.rules.sources import Status
from measures.selectors import entitlement_explanation
from measures.serializers import (
    CalculatorInputSerializer,
    EntitlementSerializer,
    FactSerializer,
    MeasureOutcomeSerializer,
    MeasureSerializer,
    RuleCheckInputSerializer,
    RuleVersionInputSerializer,
    RuleVersionSerializer,
    evaluation_json,
)
from measures.services.entitlements import entitlements_calculate, entitlements_for_person
from measures.services.rules import (
    rule_version_create,
    rule_version_preview,
    rule_version_publish,
)
from platform_core.api import ScopedQuerysetMixin
from platform_core.audit import personal_file_view_log
from platform_core.scoping import scope_queryset
from registries.enums import StatusKind
from registries.models import Person

ON = OpenApiParameter("on", date, description="The date of evaluation (default today).")
REGION = OpenApiParameter("region", str, required=True, description="Region code, e.g. 27.")


def _date_param(request: Request, name: str = "on") -> date:
    text = request.query_params.get(name)
    if not text:
        return timezone.localdate()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise serializers.ValidationError({name: [_("Enter a date as YYYY-MM-DD.")]}) from None


def _require(request: Request, permission: str) -> None:
    """Writing rules needs the role's permission as well as the organisation's powers."""
    if not request.user.has_perm(permission):
        raise PermissionDenied(_("Your role does not allow changing rules."))


class FactsView(APIView):
    """The facts library: every name a rule may use, its type, meaning and owner."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=FactSerializer(many=True))
    def get(self, request: Request) -> Response:
        facts = [
            {
                "name": f.name,
                "type": f.type,
                "label": str(f.label),
                "meaning": str(f.meaning),
                "owner": f.owner,
                "params": [
                    {
                        "name": p.name,
                        "type": p.type,
                        "default": p.default,
                        "help": str(p.help),
                        "minimum": p.minimum,
                        "maximum": p.maximum,
                        "choices": list(p.choices),
                    }
                    for p in f.params
                ],
            }
            for f in FACTS.values()
        ]
        return Response(FactSerializer(facts, many=True).data)


class RuleCheckView(APIView):
    """Check a rule's text: 200 when valid, 400 with every problem's line and column."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=RuleCheckInputSerializer, responses={200: None, 400: None})
    def post(self, request: Request) -> Response:
        data = RuleCheckInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            checked = rule_check(data.validated_data["text"], expect=data.validated_data["type"])
        except RuleInvalid as exc:
            problems = [
                {"line": p.line, "column": p.column, "message": p.message} for p in exc.problems
            ]
            return Response({"problems": problems}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"type": checked.type, "facts": checked.fact_names()})


class MeasureFilter(django_filters.FilterSet):
    class Meta:
        model = Measure
        fields = ["level", "region", "mode", "provision", "payee_role"]


class MeasureViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """The catalogue: federal measures and those of the caller's region."""

    queryset = Measure.objects.prefetch_related("channel_policies", "transfers").order_by("code")
    serializer_class = MeasureSerializer
    filterset_class = MeasureFilter
    lookup_field = "code"
    # Codes contain dots (federal.birth_allowance); the router's default stops at a dot.
    lookup_value_regex = "[^/]+"

    @extend_schema(request=RuleVersionInputSerializer, responses=RuleVersionSerializer)
    @action(detail=True, methods=["get", "post"], url_path="rules")
    def rules(self, request: Request, code: str | None = None) -> Response:
        measure = self.get_object()
        if request.method == "GET":
            versions = measure.rule_versions.order_by("-version")
            return Response(RuleVersionSerializer(versions, many=True).data)
        _require(request, "measures.add_ruleversion")
        data = RuleVersionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = rule_version_create(measure=measure, actor=request.user, **data.validated_data)
        return Response(RuleVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class RuleVersionViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Rule versions; a draft is previewed, then published."""

    queryset = RuleVersion.objects.select_related("measure").order_by("measure__code", "-version")
    serializer_class = RuleVersionSerializer
    filterset_fields = ["measure", "status"]

    @extend_schema(request=None, responses=RuleVersionSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        _require(request, "measures.change_ruleversion")
        version = rule_version_publish(rule_version=self.get_object(), actor=request.user)
        return Response(RuleVersionSerializer(version).data)

    @extend_schema(parameters=[REGION, ON], responses=None)
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        region = request.query_params.get("region") or getattr(
            request.user.organisation, "region_id", None
        )
        if not region:
            raise serializers.ValidationError({"region": [_("Give the region to preview in.")]})
        # The sample shows personal data: only of persons the caller may see.
        visible = scope_queryset(Person.objects.filter(region_id=region), user=request.user)
        if not visible.exists():
            raise serializers.ValidationError({"region": [_("You see no persons in this region.")]})
        preview = rule_version_preview(
            rule_version=self.get_object(), region_code=region, on=_date_param(request)
        )
        return Response(
            {
                "region": preview.region,
                "on": preview.on,
                "eligible": preview.eligible,
                "ineligible": preview.ineligible,
                "unknown": preview.unknown,
                "sample": MeasureOutcomeSerializer(preview.sample, many=True).data,
            }
        )


class PersonEntitlementsView(APIView):
    """What a person is entitled to on a date over the whole catalogue, and why not the rest."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[ON], responses=MeasureOutcomeSerializer(many=True))
    def get(self, request: Request, person_id: int) -> Response:
        on = _date_param(request)  # before the log: a refused request opens no file
        person = get_object_or_404(
            scope_queryset(Person.objects.all(), user=request.user), pk=person_id
        )
        personal_file_view_log(
            actor=request.user,
            subject=person,
            channel="api",
            remote_addr=request.META.get("REMOTE_ADDR"),
        )
        outcomes = entitlements_for_person(person=person, on=on)
        return Response(MeasureOutcomeSerializer(outcomes, many=True).data)


class EntitlementFilter(django_filters.FilterSet):
    measure = django_filters.CharFilter(field_name="measure__code")

    class Meta:
        model = Entitlement
        fields = ["measure", "person", "outcome", "as_of"]


class EntitlementViewSet(
    ScopedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Stored entitlements of sweeps, within the caller's jurisdiction; one explains itself."""

    queryset = Entitlement.objects.select_related("measure", "rule_version").order_by("-id")
    serializer_class = EntitlementSerializer
    filterset_class = EntitlementFilter

    def retrieve(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        entitlement = self.get_object()
        body = dict(self.get_serializer(entitlement).data)
        body["explanation"] = evaluation_json(entitlement_explanation(entitlement=entitlement))
        return Response(body)


class CalculatorView(APIView):
    """The production rules on a hypothetical family; nothing is read about anyone or written."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=CalculatorInputSerializer, responses=MeasureOutcomeSerializer(many=True))
    def post(self, request: Request) -> Response:
        data = CalculatorInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        statuses = [
            Status(kind)
            for kind, flag in (
                (StatusKind.LARGE_FAMILY, given["large_family"]),
                (StatusKind.PENSIONER, given["pensioner"]),
                (StatusKind.STUDENT, given["student"]),
                (StatusKind.UNEMPLOYED, given["unemployed"]),
                (StatusKind.LOW_INCOME, given["low_income"]),
            )
            if flag
        ]
        if given["disability_group"]:
            statuses.append(Status(StatusKind.DISABILITY, given["disability_group"]))
        outcomes = entitlements_calculate(
            region_code=given["region"],
            on=given.get("as_of") or timezone.localdate(),
            age=given["age"],
            sex=given["sex"],
            spouse_age=given.get("spouse_age"),
            children_ages=[c["age"] for c in given["children"]],
            monthly_family_income=given.get("monthly_family_income"),
            statuses=statuses,
            employed=given["employed"],
            pregnancy_week=given.get("pregnancy_week"),
        )
        return Response(MeasureOutcomeSerializer(outcomes, many=True).data)

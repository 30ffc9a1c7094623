"""REST API of the base registries: thin views, one service or selector call each."""

from __future__ import annotations

from datetime import date

import django_filters
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from platform_core.api import ScopedQuerysetMixin
from platform_core.audit import change_history, personal_file_view_log
from platform_core.validators import normalize_snils
from registries import selectors
from registries.models import (
    Bank,
    ClassifierItem,
    IncomeRecord,
    Insurer,
    LifeEvent,
    Person,
    PersonStatus,
    Relation,
    SubsistenceMinimum,
)
from registries.serializers import (
    BankSerializer,
    ClassifierItemSerializer,
    FamilyMemberSerializer,
    HistoryEntrySerializer,
    IncomeRecordSerializer,
    InsurerSerializer,
    LifeEventSerializer,
    PersonInputSerializer,
    PersonSerializer,
    PersonStatusSerializer,
    RelationSerializer,
    SubsistenceMinimumSerializer,
)
from registries.services.persons import person_create, person_update


class PersonFilter(django_filters.FilterSet):
    born_after = django_filters.DateFilter(field_name="birth_date", lookup_expr="gte")
    born_before = django_filters.DateFilter(field_name="birth_date", lookup_expr="lte")
    alive = django_filters.BooleanFilter(field_name="death_date", lookup_expr="isnull")
    last_name = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Person
        fields = ["region", "municipality", "sex", "snils", "last_name", "citizenship"]


def _log_view(request: Request, person: Person) -> None:
    personal_file_view_log(
        actor=request.user,
        subject=person,
        channel="api",
        remote_addr=request.META.get("REMOTE_ADDR"),
    )


class PersonViewSet(
    ScopedQuerysetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Persons of the registry of recipients within the caller's jurisdiction."""

    queryset = Person.objects.select_related("region", "municipality").order_by("id")
    serializer_class = PersonSerializer
    filterset_class = PersonFilter
    ordering_fields = ["id", "birth_date", "last_name"]

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        person = self.get_object()
        _log_view(request, person)
        return Response(PersonSerializer(person).data)

    @extend_schema(request=PersonInputSerializer, responses={201: PersonSerializer})
    def create(self, request: Request) -> Response:
        payload = PersonInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        person = person_create(actor=request.user, data=dict(payload.validated_data))
        return Response(PersonSerializer(person).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PersonInputSerializer, responses={200: PersonSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        person = self.get_object()
        payload = PersonInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        person = person_update(
            person=person, actor=request.user, changes=dict(payload.validated_data)
        )
        return Response(PersonSerializer(person).data)

    @extend_schema(
        parameters=[OpenApiParameter("snils", str, OpenApiParameter.PATH)],
        responses={200: PersonSerializer},
    )
    @action(detail=False, methods=["get"], url_path=r"by-snils/(?P<snils>[0-9 \-]+)")
    def by_snils(self, request: Request, snils: str) -> Response:
        """Find a person by SNILS (with or without separators)."""
        try:
            canonical = normalize_snils(snils)
        except Exception as exc:
            raise serializers.ValidationError(
                {"snils": getattr(exc, "messages", [str(exc)])}
            ) from exc
        person = selectors.person_by_snils(snils=canonical, queryset=self.get_queryset())
        if person is None:
            return Response(
                {"detail": _("No person with this SNILS in your jurisdiction.")}, status=404
            )
        _log_view(request, person)
        return Response(PersonSerializer(person).data)

    @extend_schema(responses={200: HistoryEntrySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """Every change of the person's data: who, when, old and new values."""
        person = self.get_object()
        return Response(HistoryEntrySerializer(change_history(instance=person), many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("on", date, description="Date of the family's composition")],
        responses={200: FamilyMemberSerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def family(self, request: Request, pk: str | None = None) -> Response:
        """The person's family (spouse, minor children, wards) as of a date."""
        person = self.get_object()
        on = serializers.DateField().run_validation(
            request.query_params.get("on") or timezone.localdate().isoformat()
        )
        family = selectors.family_as_of(person=person, on=on)
        rows = [
            {
                "id": person.pk,
                "full_name": person.full_name,
                "birth_date": person.birth_date,
                "role": "self",
            }
        ]
        if family.spouse:
            rows.append(
                {
                    "id": family.spouse.pk,
                    "full_name": family.spouse.full_name,
                    "birth_date": family.spouse.birth_date,
                    "role": "spouse",
                }
            )
        rows += [
            {"id": c.pk, "full_name": c.full_name, "birth_date": c.birth_date, "role": "child"}
            for c in family.children
        ]
        rows += [
            {"id": w.pk, "full_name": w.full_name, "birth_date": w.birth_date, "role": "ward"}
            for w in family.wards
        ]
        return Response(FamilyMemberSerializer(rows, many=True).data)


class ScopedReadOnlyViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class RelationViewSet(ScopedReadOnlyViewSet):
    queryset = Relation.objects.order_by("id")
    serializer_class = RelationSerializer
    filterset_fields = ["kind", "basis", "from_person", "to_person"]


class LifeEventViewSet(ScopedReadOnlyViewSet):
    queryset = LifeEvent.objects.order_by("-learned_at", "id")
    serializer_class = LifeEventSerializer
    filterset_fields = ["kind", "person", "status", "source_system"]


class PersonStatusViewSet(ScopedReadOnlyViewSet):
    queryset = PersonStatus.objects.order_by("id")
    serializer_class = PersonStatusSerializer
    filterset_fields = ["kind", "person", "disability_group"]


class IncomeRecordViewSet(ScopedReadOnlyViewSet):
    queryset = IncomeRecord.objects.order_by("person_id", "month", "id")
    serializer_class = IncomeRecordSerializer
    filterset_fields = ["person", "kind", "month"]


class InsurerViewSet(ScopedReadOnlyViewSet):
    queryset = Insurer.objects.order_by("id")
    serializer_class = InsurerSerializer
    filterset_fields = ["kind", "inn", "ogrn", "region"]


class ClassifierItemViewSet(ScopedReadOnlyViewSet):
    queryset = ClassifierItem.objects.order_by("classifier", "code", "valid_from")
    serializer_class = ClassifierItemSerializer
    filterset_fields = ["classifier", "code", "is_demo"]


class BankViewSet(ScopedReadOnlyViewSet):
    queryset = Bank.objects.order_by("bic", "valid_from")
    serializer_class = BankSerializer
    filterset_fields = ["bic", "is_demo"]
    lookup_field = "bic"

    def get_object(self) -> Bank:
        return get_object_or_404(self.get_queryset(), bic=self.kwargs["bic"], valid_to__isnull=True)


class SubsistenceMinimumViewSet(ScopedReadOnlyViewSet):
    queryset = SubsistenceMinimum.objects.order_by("region_id", "-year", "group")
    serializer_class = SubsistenceMinimumSerializer
    filterset_fields = ["region", "year", "group", "is_demo"]

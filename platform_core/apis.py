"""REST API of the shared kernel: territories, organisations, calendar, event log, audit."""

from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from platform_core import bus
from platform_core.api import ScopedQuerysetMixin
from platform_core.calendar import deadline_at
from platform_core.models import (
    CalendarDay,
    EventDelivery,
    Municipality,
    Organisation,
    OutboxEvent,
    PersonalFileView,
    Region,
)
from platform_core.scoping import has_access
from platform_core.serializers import (
    CalendarDaySerializer,
    DeadlineQuerySerializer,
    DeadlineSerializer,
    EventDeliverySerializer,
    EventStatsSerializer,
    MunicipalitySerializer,
    OrganisationSerializer,
    OutboxEventSerializer,
    PersonalFileViewSerializer,
    RegionSerializer,
)


class ReadOnly(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class RegionViewSet(ReadOnly):
    queryset = Region.objects.order_by("code")
    serializer_class = RegionSerializer
    filterset_fields = ["federal_district", "timezone"]


class MunicipalityViewSet(ReadOnly):
    queryset = Municipality.objects.order_by("oktmo")
    serializer_class = MunicipalitySerializer
    filterset_fields = ["region"]


class OrganisationViewSet(ReadOnly):
    queryset = Organisation.objects.order_by("id")
    serializer_class = OrganisationSerializer
    filterset_fields = ["kind", "region", "municipality"]


class CalendarFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    year = django_filters.NumberFilter(
        field_name="date", lookup_expr="year", min_value=1900, max_value=2100
    )

    class Meta:
        model = CalendarDay
        fields = ["kind"]


class CalendarViewSet(ReadOnly):
    queryset = CalendarDay.objects.order_by("date")
    serializer_class = CalendarDaySerializer
    filterset_class = CalendarFilter

    @extend_schema(parameters=[DeadlineQuerySerializer], responses={200: DeadlineSerializer})
    @action(detail=False, methods=["get"])
    def deadline(self, request: Request) -> Response:
        """The deadline that is N working days after a moment, in a region's time zone."""
        query = DeadlineQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        region = get_object_or_404(Region, pk=query.validated_data["region"])
        moment = deadline_at(
            moment=query.validated_data["start"],
            working_days=query.validated_data["working_days"],
            tz=region.timezone,
        )
        return Response(
            DeadlineSerializer(
                {
                    "deadline": moment,
                    "deadline_local": moment.isoformat(),
                    "timezone": region.timezone,
                }
            ).data
        )


class OutboxEventViewSet(ReadOnly):
    queryset = OutboxEvent.objects.order_by("-created_at")
    serializer_class = OutboxEventSerializer
    filterset_fields = {"event_type": ["exact"], "created_at": ["gte", "lte"]}

    @extend_schema(responses={200: EventStatsSerializer(many=True)})
    @action(detail=False, methods=["get"])
    def stats(self, request: Request) -> Response:
        """Per event type: published, not dispatched, deliveries by status, lag."""
        if not has_access(OutboxEvent, user=request.user):
            raise PermissionDenied
        return Response(EventStatsSerializer(bus.event_stats(), many=True).data)


class EventDeliveryViewSet(ReadOnly):
    queryset = EventDelivery.objects.select_related("event").order_by("-created_at")
    serializer_class = EventDeliverySerializer
    filterset_fields = ["status", "handler", "event"]

    @extend_schema(request=None, responses={200: EventDeliverySerializer})
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str | None = None) -> Response:
        """Queue a failed or dead delivery again (409 if it already succeeded)."""
        delivery = self.get_object()
        return Response(EventDeliverySerializer(bus.delivery_replay(delivery=delivery)).data)


class PersonalFileViewViewSet(ReadOnly):
    queryset = PersonalFileView.objects.select_related("actor").order_by("-viewed_at")
    serializer_class = PersonalFileViewSerializer
    filterset_fields = ["subject_type", "subject_id", "channel", "actor"]

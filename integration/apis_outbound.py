"""API of what the platform asks and tells other agencies: inter-agency requests and their
log (officers, scoped to their region), complaints, and the monitoring of exchanges,
providers' circuits and the federal feed (platform operators)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from integration import selectors
from integration.enums import ComplaintKind, DataKind
from integration.models import (
    DataComplaint,
    DataExchange,
    DataRequest,
    ExchangeAttempt,
    ExternalSystem,
    FederalFact,
    ProviderCircuit,
)
from integration.services import complaints, interagency, publication
from integration.services.http import circuit_reset
from platform_core.api import ScopedQuerysetMixin, TextKeyRelatedField
from platform_core.errors import OutOfJurisdiction
from platform_core.models import Region
from platform_core.scoping import has_access, scope_queryset


def _region_for(user: Any, asked: Region | None, model: type) -> Region:
    """The region an officer acts in: theirs, or the one a nationwide body names."""
    if not has_access(model, user=user, action="change"):
        raise OutOfJurisdiction(_("Your organisation may not ask other agencies for data."))
    organisation = user.organisation
    if user.is_superuser or organisation.is_nationwide:
        if asked is None:
            raise OutOfJurisdiction(_("Name the region you act for."), field="region")
        return asked
    if asked is not None and asked.pk != organisation.region_id:
        raise OutOfJurisdiction(_("You act only for your own region."), field="region")
    return organisation.region


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExchangeAttempt
        fields = ["number", "started_at", "latency_ms", "http_status", "outcome", "error"]


class ExchangeSerializer(serializers.ModelSerializer):
    provider = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = DataExchange
        fields = [
            "id",
            "kind",
            "provider",
            "status",
            "params",
            "created_at",
            "deadline_at",
            "next_attempt_at",
            "attempts",
            "first_sent_at",
            "answered_at",
            "latency_ms",
            "problem",
            "valid_until",
            "purge_after",
            "purged_at",
        ]


class ExchangeDetailSerializer(ExchangeSerializer):
    """What operators see of an exchange: how it went, not whom it is about or the answer."""

    tries = AttemptSerializer(many=True, read_only=True)

    class Meta(ExchangeSerializer.Meta):
        fields = [*ExchangeSerializer.Meta.fields, "tries"]


class AnsweredExchangeSerializer(ExchangeSerializer):
    """An exchange with its answer, for the officers of the region that asked."""

    class Meta(ExchangeSerializer.Meta):
        fields = [*ExchangeSerializer.Meta.fields, "answer"]


class DataRequestSerializer(serializers.ModelSerializer):
    exchange = AnsweredExchangeSerializer(read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = DataRequest
        fields = [
            "id",
            "kind",
            "region",
            "case_ref",
            "person_id",
            "purpose",
            "requested_by",
            "requested_at",
            "reused",
            "released_at",
            "exchange",
        ]


class SubjectSerializer(serializers.Serializer):
    snils = serializers.CharField(required=False, allow_blank=True, max_length=14)
    last_name = serializers.CharField(max_length=100)
    first_name = serializers.CharField(max_length=100)
    patronymic = serializers.CharField(required=False, allow_blank=True, max_length=100)
    birth_date = serializers.DateField()


class PeriodSerializer(serializers.Serializer):
    from_ = serializers.RegexField(r"^[0-9]{4}-(0[1-9]|1[0-2])$", required=False)
    to = serializers.RegexField(r"^[0-9]{4}-(0[1-9]|1[0-2])$", required=False)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class AskSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DataKind.choices)
    subject = SubjectSerializer()
    params = PeriodSerializer(required=False)
    case_ref = serializers.RegexField(
        r"^(?!case:)",
        max_length=64,
        help_text="The officer's reference; `case:` is the pipeline's.",
    )
    purpose = serializers.CharField(required=False, allow_blank=True, max_length=300)
    region = TextKeyRelatedField(queryset=Region.objects.all(), required=False)


class DataRequestViewSet(
    ScopedQuerysetMixin,
    mixins.CreateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Inter-agency requests: ask other agencies for data for a case; the log of who asked."""

    queryset = DataRequest.objects.select_related(
        "exchange", "exchange__provider", "requested_by"
    ).order_by("-requested_at", "-id")
    serializer_class = DataRequestSerializer
    filterset_fields = {"case_ref": ["exact"], "kind": ["exact"], "requested_at": ["gte", "lte"]}

    @extend_schema(request=AskSerializer, responses={201: DataRequestSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = AskSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        region = _region_for(request.user, data.get("region"), DataRequest)
        subject = {**data["subject"], "birth_date": data["subject"]["birth_date"].isoformat()}
        asked = interagency.data_request(
            kind=data["kind"],
            subject=subject,
            params=data.get("params") or {},
            region_id=region.pk,
            case_ref=data["case_ref"],
            purpose=data.get("purpose", ""),
            requested_by=request.user,
            now=timezone.now(),
        )
        asked.refresh_from_db()
        return Response(DataRequestSerializer(asked).data, status=status.HTTP_201_CREATED)


class ComplaintSerializer(serializers.ModelSerializer):
    provider = serializers.SlugRelatedField(slug_field="code", read_only=True)
    filed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = DataComplaint
        fields = [
            "id",
            "kind",
            "provider",
            "exchange",
            "region",
            "text",
            "filed_by",
            "filed_at",
            "status",
            "sent_at",
            "answer",
            "corrected",
            "answered_at",
            "problem",
        ]


class FileComplaintSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ComplaintKind.choices)
    text = serializers.CharField(max_length=4000)
    request = serializers.IntegerField(
        required=False, help_text="The inter-agency request whose answer is wrong or late."
    )
    provider = serializers.SlugRelatedField(
        slug_field="code", queryset=ExternalSystem.objects.all(), required=False
    )
    region = TextKeyRelatedField(queryset=Region.objects.all(), required=False)


class ComplaintViewSet(ScopedQuerysetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Data-quality complaints to providers, tracked to their answers."""

    queryset = DataComplaint.objects.select_related("provider", "filed_by").order_by("-filed_at")
    serializer_class = ComplaintSerializer
    filterset_fields = ["status", "kind"]

    @extend_schema(request=FileComplaintSerializer, responses={201: ComplaintSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = FileComplaintSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        exchange, region = None, data.get("region")
        if "request" in data:
            # Only a request the officer may see can be complained about.
            visible = scope_queryset(DataRequest.objects.all(), user=request.user)
            asked = visible.select_related("exchange", "region").filter(pk=data["request"]).first()
            if asked is None:
                raise serializers.ValidationError({"request": [_("No such request.")]})
            exchange, region = asked.exchange, region or asked.region
        region = _region_for(request.user, region, DataComplaint)
        filed = complaints.complaint_file(
            kind=data["kind"],
            text=data["text"],
            filed_by=request.user,
            region_id=region.pk,
            exchange=exchange,
            provider=data.get("provider"),
            now=timezone.now(),
        )
        filed.refresh_from_db()
        return Response(ComplaintSerializer(filed).data, status=status.HTTP_201_CREATED)


class ExchangeViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Exchanges with providers, for platform operators: status, tries, latency, retries
    (whom an exchange is about and what came back are the asking region's: `requests/`)."""

    queryset = DataExchange.objects.select_related("provider").order_by("-created_at")
    serializer_class = ExchangeSerializer
    filterset_fields = {
        "status": ["exact"],
        "kind": ["exact"],
        "provider__code": ["exact"],
        "created_at": ["gte", "lte"],
    }

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return ExchangeDetailSerializer if self.action == "retrieve" else ExchangeSerializer

    @action(detail=False, methods=["get"])
    def stats(self, request: Request) -> Response:
        """Per provider and data kind: by status, oldest in flight, latency p50/p95, tries;
        and every provider's circuit."""
        now = timezone.now()
        return Response(
            {
                "exchanges": selectors.exchange_stats(self.get_queryset()),
                "circuits": selectors.circuits(now=now),
            }
        )

    @extend_schema(request=None, responses={200: ExchangeSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        """Ask again for the data of a refused or expired exchange (409 otherwise)."""
        fresh = interagency.exchange_retry(exchange=self.get_object(), now=timezone.now())
        fresh.refresh_from_db()
        return Response(ExchangeSerializer(fresh).data)


class CircuitViewSet(ScopedQuerysetMixin, viewsets.GenericViewSet):
    """Providers' circuit breakers; an operator may close one by hand."""

    queryset = ProviderCircuit.objects.select_related("system")

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def reset(self, request: Request, pk: str | None = None) -> Response:
        """Close the circuit: the provider is asked again at once."""
        circuit_reset(system=self.get_object().system)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FederalFactSerializer(serializers.ModelSerializer):
    class Meta:
        model = FederalFact
        fields = [
            "id",
            "fact_id",
            "version",
            "status",
            "created_at",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "errors",
            "problem",
        ]  # not the payload: whom a fact is about is the regions' business, not operators'


class FactViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """The federal register feed: each version of each fact and what the register said."""

    queryset = FederalFact.objects.order_by("-created_at", "-id")
    serializer_class = FederalFactSerializer
    filterset_fields = ["status", "fact_id"]

    @action(detail=False, methods=["get"])
    def stats(self, request: Request) -> Response:
        """Versions by status, the oldest waiting, the most tries of a waiting one."""
        return Response(selectors.fact_stats(self.get_queryset()))

    @extend_schema(request=None, responses={200: FederalFactSerializer})
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str | None = None) -> Response:
        """Send a rejected fact's latest version again (409 otherwise)."""
        resent = publication.fact_resend(fact=self.get_object(), now=timezone.now())
        return Response(FederalFactSerializer(resent).data)

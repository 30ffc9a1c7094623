"""API of cases: the officers' queue, a case with its timeline, manual decisions, and the
check of a decision's signature (anyone with the decision can verify it)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from measures import selectors
from measures.enums import DecisionOutcome
from measures.models import Assignment, Case, CaseEntry, Decision
from measures.services import cases
from platform_core.api import ScopedQuerysetMixin
from platform_core.signing import signature_valid, signing_key


class CaseEntrySerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CaseEntry
        fields = ["at", "kind", "channel", "actor", "from_status", "to_status", "text", "data"]


class DecisionSerializer(serializers.ModelSerializer):
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Decision
        fields = [
            "id",
            "number",
            "outcome",
            "amount",
            "period_from",
            "period_to",
            "legal_basis",
            "explanation",
            "automatic",
            "decided_by",
            "reason",
            "decided_at",
            "signed",
            "signature",
            "key_id",
        ]


class AssignmentSerializer(serializers.ModelSerializer):
    measure = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Assignment
        fields = ["id", "person", "measure", "amount", "active_from", "active_to", "status"]


class CaseSerializer(serializers.ModelSerializer):
    measure = serializers.SlugRelatedField(slug_field="code", read_only=True)
    assigned_to = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "person",
            "measure",
            "region",
            "trigger_kind",
            "trigger_key",
            "as_of",
            "status",
            "channel",
            "opened_at",
            "data_complete_at",
            "decision_due_at",
            "closed_at",
            "assigned_to",
            "summary",
        ]


class CaseDetailSerializer(CaseSerializer):
    entries = CaseEntrySerializer(many=True, read_only=True)
    decision = DecisionSerializer(read_only=True)

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "entries", "decision"]


class DecideSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=DecisionOutcome.choices)
    reason = serializers.CharField(max_length=4000)


class CaseViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Cases (личные дела по мерам) of the caller's territory, with their timeline."""

    queryset = Case.objects.select_related("measure", "assigned_to").order_by("-opened_at", "-id")
    serializer_class = CaseSerializer
    filterset_fields = {
        "status": ["exact"],
        "measure__code": ["exact"],
        "person": ["exact"],
        "opened_at": ["gte", "lte"],
    }

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return CaseDetailSerializer if self.action == "retrieve" else CaseSerializer

    @action(detail=False, methods=["get"])
    def queue(self, request: Request) -> Response:
        """Cases waiting for an officer, the nearest deadline first."""
        page = self.paginate_queryset(selectors.case_queue(self.get_queryset()))
        return self.get_paginated_response(CaseSerializer(page, many=True).data)

    @action(detail=False, methods=["get"])
    def overdue(self, request: Request) -> Response:
        """Open cases past their decision deadline."""
        found = selectors.cases_overdue(self.get_queryset(), now=timezone.now())
        page = self.paginate_queryset(found)
        return self.get_paginated_response(CaseSerializer(page, many=True).data)

    @extend_schema(request=None, responses={200: CaseSerializer})
    @action(detail=True, methods=["post"])
    def take(self, request: Request, pk: str | None = None) -> Response:
        """Take an open case to work on it (409 if it is closed)."""
        taken = cases.case_take(case=self.get_object(), officer=request.user, now=timezone.now())
        return Response(CaseSerializer(taken).data)

    @extend_schema(request=DecideSerializer, responses={200: CaseDetailSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        """Grant or refuse a case in review, with the reason; refusing a proactive case takes
        a second officer's confirmation (the first call proposes it). 409 if another officer
        decided it first."""
        body = DecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decided = cases.case_decide(
            case=self.get_object(),
            outcome=body.validated_data["outcome"],
            reason=body.validated_data["reason"],
            officer=request.user,
            now=timezone.now(),
        )
        # A protected status is read again, never refreshed in place (django-fsm).
        return Response(CaseDetailSerializer(self.get_queryset().get(pk=decided.pk)).data)


class DecisionVerifySerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    key_id = serializers.CharField()
    public_key = serializers.CharField(help_text="The platform's Ed25519 public key, base64.")


class DecisionViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Decisions with their explanation and signature."""

    queryset = Decision.objects.select_related("decided_by").order_by("-decided_at", "-id")
    serializer_class = DecisionSerializer
    filterset_fields = ["outcome", "automatic"]

    @extend_schema(responses={200: DecisionVerifySerializer})
    @action(detail=True, methods=["get"])
    def verify(self, request: Request, pk: str | None = None) -> Response:
        """Check the decision's signature against the platform's key."""
        decision = self.get_object()
        key = signing_key()
        return Response(
            {
                "valid": decision.key_id == key.key_id
                and signature_valid(decision.signed, decision.signature),
                "key_id": key.key_id,
                "public_key": key.public_b64,
            }
        )


class SigningKeySerializer(serializers.Serializer):
    algorithm = serializers.CharField()
    key_id = serializers.CharField()
    public_key = serializers.CharField(help_text="Raw Ed25519 public key, base64.")


class SigningKeyView(APIView):
    """The platform's public key, to check decisions' signatures offline."""

    permission_classes: list[Any] = []

    @extend_schema(responses={200: SigningKeySerializer})
    def get(self, request: Request) -> Response:
        key = signing_key()
        return Response(
            {"algorithm": "Ed25519", "key_id": key.key_id, "public_key": key.public_b64}
        )

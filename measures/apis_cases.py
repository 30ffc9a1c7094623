"""API of cases: the officers' queue, a case with its timeline, manual decisions, the check
of a decision's signature (anyone with the decision can verify it), and applications
recorded from any channel."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from integration.contracts import text_problems
from measures import selectors
from measures.enums import Channel, DecisionOutcome
from measures.models import Application, Assignment, Case, CaseEntry, Decision, Measure
from measures.services import applications, cases
from platform_core.api import CodeRelatedField, ScopedQuerysetMixin
from platform_core.scoping import scope_queryset
from platform_core.signing import signature_valid, signing_key
from registries.models import Person


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


class ApplicationSerializer(serializers.ModelSerializer):
    measure = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Application
        fields = [
            "id",
            "person",
            "applicant",
            "measure",
            "channel",
            "status",
            "answers",
            "created_at",
            "submitted_at",
            "case",
        ]


class NewApplicationSerializer(serializers.Serializer):
    person = serializers.IntegerField(help_text="For whom.")
    applicant = serializers.IntegerField(help_text="Who applies: the person or a representative.")
    measure = CodeRelatedField(slug_field="code", queryset=Measure.objects.all())
    channel = serializers.ChoiceField(choices=Channel.choices)
    answers = serializers.JSONField(required=False, default=dict)
    submit = serializers.BooleanField(default=True, help_text="Submit at once (else a draft).")

    def validate_answers(self, value: Any) -> Any:
        problems = text_problems(value)
        if problems:
            raise serializers.ValidationError([f"{p.field}: {p.message}" for p in problems])
        return value


class ApplicationViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Applications recorded from any channel; submitting one works its case at once."""

    queryset = Application.objects.select_related("measure").order_by("-created_at", "-id")
    serializer_class = ApplicationSerializer
    filterset_fields = ["status", "person", "channel"]

    def _person(self, pk: int, field: str) -> Person:
        found = scope_queryset(Person.objects.all(), user=self.request.user, action="change")
        person = found.filter(pk=pk).first()
        if person is None:
            raise serializers.ValidationError({field: [_("No such person in your territory.")]})
        return person

    @extend_schema(request=NewApplicationSerializer, responses={201: ApplicationSerializer})
    def create(self, request: Request) -> Response:
        """Record an application (409 with the open one's case if there is one)."""
        body = NewApplicationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        now = timezone.now()
        try:
            made = applications.application_create(
                person=self._person(data["person"], "person"),
                applicant=self._person(data["applicant"], "applicant"),
                measure=data["measure"],
                channel=data["channel"],
                answers=data["answers"],
                recorded_by=request.user,
                now=now,
            )
        except applications.DuplicateApplication as exc:
            return Response(
                {
                    "detail": str(exc.message),
                    "code": exc.code,
                    "application": exc.existing.pk,
                    "case": exc.existing.case_id,
                },
                status=status.HTTP_409_CONFLICT,
            )
        if data["submit"]:
            made = applications.application_submit(application=made, now=now)
        return Response(
            ApplicationSerializer(Application.objects.get(pk=made.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses={200: ApplicationSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """Submit a draft (409 otherwise)."""
        done = applications.application_submit(application=self.get_object(), now=timezone.now())
        return Response(ApplicationSerializer(Application.objects.get(pk=done.pk)).data)

    @extend_schema(request=None, responses={200: ApplicationSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        """Withdraw an application not decided yet (409 otherwise)."""
        done = applications.application_withdraw(application=self.get_object(), now=timezone.now())
        return Response(ApplicationSerializer(Application.objects.get(pk=done.pk)).data)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000)


class AssignmentViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Assignments of the caller's territory; suspended and resumed with a reason."""

    queryset = Assignment.objects.select_related("measure").order_by("-created_at", "-id")
    serializer_class = AssignmentSerializer
    filterset_fields = ["status", "person", "measure__code"]

    def _act(self, request: Request, service: Any) -> Response:
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        done = service(
            assignment=self.get_object(),
            reason=body.validated_data["reason"],
            officer=request.user,
            now=timezone.now(),
        )
        return Response(AssignmentSerializer(Assignment.objects.get(pk=done.pk)).data)

    @extend_schema(request=ReasonSerializer, responses={200: AssignmentSerializer})
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, pk: str | None = None) -> Response:
        """Suspend an active assignment (409 otherwise)."""
        return self._act(request, cases.assignment_suspend)

    @extend_schema(request=ReasonSerializer, responses={200: AssignmentSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        """Resume a suspended assignment (409 otherwise)."""
        return self._act(request, cases.assignment_resume)

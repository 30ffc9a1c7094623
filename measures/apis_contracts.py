"""API of social contracts: made by an officer with a low-income family, signed, worked step
by step, closed; the family's income before, during and after."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from measures import selectors
from measures.enums import ContractSubject
from measures.models import ContractAssistance, ContractStep, SocialContract
from measures.services import contracts
from platform_core.api import ScopedQuerysetMixin
from platform_core.scoping import scope_queryset
from registries.models import Person


class StepSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContractStep
        fields = ["id", "title", "due_on", "done_on", "note"]
        read_only_fields = ["id", "done_on", "note"]


class AssistanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContractAssistance
        fields = ["kind", "amount", "months", "note"]
        extra_kwargs = {"amount": {"min_value": 0}}


class ContractSerializer(serializers.ModelSerializer):
    steps = StepSerializer(many=True, read_only=True)
    assistance = AssistanceSerializer(many=True, read_only=True)

    class Meta:
        model = SocialContract
        fields = [
            "id",
            "number",
            "person",
            "subject",
            "recipient_obligations",
            "agency_obligations",
            "term_from",
            "term_to",
            "status",
            "signed_at",
            "created_at",
            "outcome",
            "steps",
            "assistance",
        ]


class NewContractSerializer(serializers.Serializer):
    person = serializers.IntegerField()
    subject = serializers.ChoiceField(choices=ContractSubject.choices)
    recipient_obligations = serializers.CharField()
    agency_obligations = serializers.CharField()
    term_from = serializers.DateField()
    term_to = serializers.DateField()
    steps = StepSerializer(many=True)
    assistance = AssistanceSerializer(many=True, required=False, default=list)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["term_from"].year < 2000:
            raise serializers.ValidationError({"term_from": [_("Too far in the past.")]})
        if (data["term_to"] - data["term_from"]).days > 366 * 5:
            raise serializers.ValidationError({"term_to": [_("A contract lasts at most 5 years.")]})
        return data


class StepDoneSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    on = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CloseSerializer(serializers.Serializer):
    completed = serializers.BooleanField()
    outcome = serializers.CharField()


class SocialContractViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Social contracts of the caller's territory."""

    queryset = SocialContract.objects.prefetch_related("steps", "assistance").order_by(
        "-created_at", "-id"
    )
    serializer_class = ContractSerializer
    filterset_fields = ["status", "person", "subject"]

    def _fresh(self, contract: SocialContract) -> dict[str, Any]:
        return ContractSerializer(self.get_queryset().get(pk=contract.pk)).data

    @extend_schema(request=NewContractSerializer, responses={201: ContractSerializer})
    def create(self, request: Request) -> Response:
        """Draw up a contract with a low-income family (400 naming what is wrong)."""
        body = NewContractSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        visible = scope_queryset(Person.objects.all(), user=request.user, action="change")
        person = visible.filter(pk=data["person"]).first()
        if person is None:
            raise serializers.ValidationError({"person": [_("No such person in your territory.")]})
        made = contracts.contract_create(
            person=person,
            subject=data["subject"],
            recipient_obligations=data["recipient_obligations"],
            agency_obligations=data["agency_obligations"],
            term_from=data["term_from"],
            term_to=data["term_to"],
            steps=[contracts.Step(s["title"], s["due_on"]) for s in data["steps"]],
            assistance=[
                contracts.Assistance(a["kind"], a.get("amount"), a.get("months"), a.get("note", ""))
                for a in data["assistance"]
            ],
            officer=request.user,
            now=timezone.now(),
        )
        return Response(self._fresh(made), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ContractSerializer})
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: str | None = None) -> Response:
        """Put a draft in force (409 if another contract of the person is)."""
        return Response(
            self._fresh(contracts.contract_sign(contract=self.get_object(), now=timezone.now()))
        )

    @extend_schema(request=StepDoneSerializer, responses={200: ContractSerializer})
    @action(detail=True, methods=["post"], url_path="step-done")
    def step_done(self, request: Request, pk: str | None = None) -> Response:
        """Record a step of the programme as done."""
        body = StepDoneSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        contract = self.get_object()
        step = contract.steps.filter(pk=body.validated_data["step"]).first()
        if step is None:
            raise serializers.ValidationError({"step": [_("No such step in this contract.")]})
        contracts.contract_step_done(
            step=step, on=body.validated_data["on"], note=body.validated_data["note"]
        )
        return Response(self._fresh(contract))

    @extend_schema(request=CloseSerializer, responses={200: ContractSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """End a contract in force: completed, or terminated early, with its outcome."""
        body = CloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        closed = contracts.contract_close(contract=self.get_object(), **body.validated_data)
        return Response(self._fresh(closed))

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def income(self, request: Request, pk: str | None = None) -> Response:
        """The family's income per person by month: 12 months before, during, 12 after."""
        return Response(selectors.contract_income_track(contract=self.get_object()))

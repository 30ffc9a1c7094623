"""API representations of the measures catalogue, rules and entitlements."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from measures.enums import DATA_KIND_OWNERS, DataKind, Outcome
from measures.models import ChannelPolicy, Entitlement, FunctionTransfer, Measure, RuleVersion
from measures.rules.evaluate import Evaluation
from measures.services.entitlements import MeasureOutcome
from registries.enums import DisabilityGroup, Sex


class ParamSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    default = serializers.JSONField()
    help = serializers.CharField()
    minimum = serializers.IntegerField(allow_null=True)
    maximum = serializers.IntegerField(allow_null=True)
    choices = serializers.ListField(child=serializers.CharField())


class FactSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    label = serializers.CharField()
    meaning = serializers.CharField()
    owner = serializers.CharField()
    params = ParamSerializer(many=True)


class ChannelPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = ChannelPolicy
        fields = ["applicant_role", "channels", "valid_from", "valid_to"]


class FunctionTransferSerializer(serializers.ModelSerializer):
    class Meta:
        model = FunctionTransfer
        fields = ["operator", "agreement", "valid_from", "valid_to"]


class MeasureSerializer(serializers.ModelSerializer):
    channel_policies = ChannelPolicySerializer(many=True, read_only=True)
    transfers = FunctionTransferSerializer(many=True, read_only=True)
    data_owners = serializers.SerializerMethodField()

    class Meta:
        model = Measure
        fields = [
            "id",
            "code",
            "name",
            "description",
            "legal_act",
            "legal_act_date",
            "legal_article",
            "level",
            "establishing_authority",
            "operator",
            "region",
            "municipality",
            "provision",
            "payee_role",
            "mode",
            "trigger_events",
            "data_kinds",
            "data_owners",
            "decision_days",
            "valid_from",
            "valid_to",
            "excludes",
            "capped_with",
            "is_demo",
            "demo_note",
            "channel_policies",
            "transfers",
        ]

    def get_data_owners(self, measure: Measure) -> dict[str, str]:
        return {kind: DATA_KIND_OWNERS[DataKind(kind)] for kind in measure.data_kinds}


class RuleVersionSerializer(serializers.ModelSerializer):
    measure = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = RuleVersion
        fields = [
            "id",
            "measure",
            "version",
            "status",
            "valid_from",
            "valid_to",
            "eligibility",
            "amount",
            "period_months",
            "note",
            "created_by",
            "created_at",
            "published_by",
            "published_at",
        ]
        read_only_fields = [
            "version",
            "status",
            "created_by",
            "created_at",
            "published_by",
            "published_at",
        ]


class RuleVersionInputSerializer(serializers.Serializer):
    eligibility = serializers.CharField(trim_whitespace=False)
    amount = serializers.CharField(required=False, allow_blank=True, default="")
    period_months = serializers.CharField(required=False, allow_blank=True, default="")
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class RuleCheckInputSerializer(serializers.Serializer):
    text = serializers.CharField(trim_whitespace=False)
    type = serializers.ChoiceField(
        choices=["bool", "number", "text"], default="bool", help_text=_("What the rule gives.")
    )


def evaluation_json(evaluation: Evaluation | None) -> dict[str, Any] | None:
    return None if evaluation is None else evaluation.as_json()


class MeasureOutcomeSerializer(serializers.Serializer):
    """One measure's answer: outcome, amount, period and the explanation."""

    def to_representation(self, outcome: MeasureOutcome) -> dict[str, Any]:
        return {
            "measure": outcome.measure.code,
            "measure_name": outcome.measure.name,
            "rule_version": outcome.rule_version.version if outcome.rule_version else None,
            "outcome": outcome.outcome,
            "outcome_label": str(Outcome(outcome.outcome).label),
            "amount": None if outcome.amount is None else str(outcome.amount),
            "period_months": outcome.period_months,
            "person": outcome.person.pk if outcome.person else None,
            "explanation": evaluation_json(outcome.evaluation),
        }


class EntitlementSerializer(serializers.ModelSerializer):
    measure = serializers.SlugRelatedField(slug_field="code", read_only=True)
    rule_version = serializers.SlugRelatedField(slug_field="version", read_only=True)

    class Meta:
        model = Entitlement
        fields = [
            "id",
            "person",
            "measure",
            "rule_version",
            "as_of",
            "outcome",
            "amount",
            "facts",
            "evaluated_at",
        ]


class CalculatorChildSerializer(serializers.Serializer):
    age = serializers.IntegerField(min_value=0, max_value=30)


class CalculatorInputSerializer(serializers.Serializer):
    """A hypothetical family: who is in it and its income; nobody's data is read."""

    region = serializers.CharField(max_length=2)
    as_of = serializers.DateField(required=False)
    age = serializers.IntegerField(min_value=14, max_value=120)
    sex = serializers.ChoiceField(choices=Sex.choices)
    spouse_age = serializers.IntegerField(
        min_value=14, max_value=120, required=False, allow_null=True
    )
    children = CalculatorChildSerializer(many=True, required=False, default=list)
    monthly_family_income = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    large_family = serializers.BooleanField(required=False, default=False)
    disability_group = serializers.ChoiceField(
        choices=DisabilityGroup.choices, required=False, allow_blank=True, default=""
    )
    employed = serializers.BooleanField(required=False, default=False)
    pensioner = serializers.BooleanField(required=False, default=False)
    student = serializers.BooleanField(required=False, default=False)
    unemployed = serializers.BooleanField(required=False, default=False)
    low_income = serializers.BooleanField(required=False, default=False)
    pregnancy_week = serializers.IntegerField(
        min_value=1, max_value=42, required=False, allow_null=True
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        for child in data.get("children", []):
            if child["age"] >= data["age"]:
                raise serializers.ValidationError(
                    {"children": _("A child cannot be as old as or older than the applicant.")}
                )
        return data

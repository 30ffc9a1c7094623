"""API representations of the registries; input serializers only validate shape."""

from __future__ import annotations

from rest_framework import serializers

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


class PersonSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = Person
        fields = [
            "id",
            "snils",
            "full_name",
            "last_name",
            "first_name",
            "patronymic",
            "birth_date",
            "sex",
            "death_date",
            "citizenship",
            "region",
            "municipality",
            "address",
            "fias_guid",
            "phone",
            "email",
            "bank_bic",
            "bank_account",
            "bank_card",
            "consent_proactive",
            "notification_channels",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PersonInputSerializer(serializers.ModelSerializer):
    """Shape of a person in a create or update; the service checks the rules."""

    region = serializers.CharField(max_length=2, source="region_id")
    municipality = serializers.CharField(
        max_length=11, source="municipality_id", required=False, allow_null=True, allow_blank=True
    )
    snils = serializers.CharField(max_length=20, required=False, allow_null=True, allow_blank=True)

    class Meta:
        model = Person
        fields = [
            "snils",
            "last_name",
            "first_name",
            "patronymic",
            "birth_date",
            "sex",
            "death_date",
            "citizenship",
            "region",
            "municipality",
            "address",
            "fias_guid",
            "phone",
            "email",
            "bank_bic",
            "bank_account",
            "bank_card",
            "consent_proactive",
            "notification_channels",
        ]
        # Model validators (checksums, uniqueness) run once, in the service, with field names.
        extra_kwargs = {
            "bank_bic": {"validators": []},
            "bank_card": {"validators": []},
        }

    def get_validators(self) -> list:
        return []


class RelationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Relation
        fields = [
            "id",
            "kind",
            "basis",
            "from_person",
            "to_person",
            "valid_from",
            "valid_to",
            "document",
        ]


class LifeEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = LifeEvent
        fields = [
            "id",
            "kind",
            "person",
            "occurred_on",
            "learned_at",
            "source_system",
            "source_event_id",
            "act_number",
            "act_date",
            "act_office",
            "status",
            "corrects",
            "details",
        ]


class PersonStatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = PersonStatus
        fields = [
            "id",
            "person",
            "kind",
            "valid_from",
            "valid_to",
            "disability_group",
            "from_childhood",
            "source",
            "basis",
        ]


class IncomeRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = IncomeRecord
        fields = ["id", "person", "kind", "month", "amount", "payer_inn", "source"]


class FamilyMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    birth_date = serializers.DateField()
    role = serializers.CharField()


class InsurerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Insurer
        fields = [
            "id",
            "kind",
            "name",
            "inn",
            "ogrn",
            "kpp",
            "okved",
            "registration_number",
            "region",
            "registered_on",
            "deregistered_on",
            "source",
        ]


class ClassifierItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClassifierItem
        fields = [
            "classifier",
            "code",
            "name",
            "name_en",
            "parent_code",
            "valid_from",
            "valid_to",
            "is_demo",
            "source",
        ]


class BankSerializer(serializers.ModelSerializer):
    class Meta:
        model = Bank
        fields = [
            "bic",
            "name",
            "correspondent_account",
            "city",
            "valid_from",
            "valid_to",
            "is_demo",
        ]


class SubsistenceMinimumSerializer(serializers.ModelSerializer):
    class Meta:
        model = SubsistenceMinimum
        fields = [
            "region",
            "year",
            "group",
            "amount",
            "valid_from",
            "valid_to",
            "is_demo",
            "source",
        ]


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class HistoryEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    who = serializers.CharField(allow_null=True)
    kind = serializers.CharField()
    reason = serializers.CharField()
    changes = HistoryChangeSerializer(many=True)

from rest_framework import serializers

from platform_core.models import (
    CalendarDay,
    EventDelivery,
    Municipality,
    Organisation,
    OutboxEvent,
    PersonalFileView,
    Region,
)


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "name_en", "okato", "oktmo", "timezone", "federal_district"]


class MunicipalitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Municipality
        fields = ["oktmo", "region", "name", "kind"]


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "short_name", "kind", "parent", "region", "municipality", "powers"]


class CalendarDaySerializer(serializers.ModelSerializer):
    is_working = serializers.BooleanField(read_only=True)

    class Meta:
        model = CalendarDay
        fields = ["date", "kind", "is_working", "note"]


class DeadlineQuerySerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    working_days = serializers.IntegerField(min_value=0, max_value=365)
    region = serializers.CharField(max_length=2)


class DeadlineSerializer(serializers.Serializer):
    deadline = serializers.DateTimeField(help_text="In UTC.")
    deadline_local = serializers.CharField(help_text="The same moment in the region's time zone.")
    timezone = serializers.CharField()


class OutboxEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutboxEvent
        fields = ["id", "event_type", "payload", "created_at", "dispatched_at", "actor_id"]


class EventDeliverySerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(source="event.event_type", read_only=True)

    class Meta:
        model = EventDelivery
        fields = [
            "id",
            "event",
            "event_type",
            "handler",
            "status",
            "attempts",
            "next_attempt_at",
            "last_error",
            "created_at",
            "finished_at",
        ]


class EventStatsSerializer(serializers.Serializer):
    event_type = serializers.CharField()
    published = serializers.IntegerField()
    undispatched = serializers.IntegerField()
    oldest_undispatched_at = serializers.DateTimeField(allow_null=True)
    pending = serializers.IntegerField()
    running = serializers.IntegerField()
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    dead = serializers.IntegerField()
    avg_lag_seconds = serializers.FloatField(allow_null=True)
    max_lag_seconds = serializers.FloatField(allow_null=True)


class PersonalFileViewSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username")

    class Meta:
        model = PersonalFileView
        fields = [
            "id",
            "actor",
            "subject_type",
            "subject_id",
            "viewed_at",
            "channel",
            "purpose",
            "remote_addr",
        ]

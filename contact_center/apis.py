"""API of the contact centre: the notifications log, for staff of the person's territory."""

from __future__ import annotations

from rest_framework import serializers, viewsets

from contact_center.models import Notification
from platform_core.api import ScopedQuerysetMixin


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = [
            "id",
            "person",
            "channel",
            "kind",
            "source_key",
            "language",
            "recipient",
            "subject",
            "body",
            "link",
            "status",
            "attempts",
            "next_attempt_at",
            "last_error",
            "created_at",
            "sent_at",
            "read_at",
        ]


class NotificationViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """What citizens of the caller's territory were told, on which channel, and how it went."""

    queryset = Notification.objects.order_by("-created_at", "-id")
    serializer_class = NotificationSerializer
    filterset_fields = {
        "person": ["exact"],
        "status": ["exact"],
        "channel": ["exact"],
        "kind": ["exact"],
        "source_key": ["exact"],
        "created_at": ["gte", "lte"],
    }

"""Notifications of citizens (уведомления граждан): one row per person, event and channel.

A notification is written when the event that causes it is handled, in the handler's
transaction, once per (source, channel, person): a re-delivered event finds its rows and
writes nothing. The portal inbox holds its copy at once; e-mail and SMS are sent after commit
by a task, retried with backoff, and never sent twice (contact_center/services.py).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from contact_center.enums import UNSENT, NotificationChannel, NotificationKind, NotificationStatus
from platform_core.scoping import Jurisdiction
from registries.models import Person


class Notification(models.Model):
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="notifications", verbose_name=_("person")
    )
    channel = models.CharField(_("channel"), max_length=8, choices=NotificationChannel.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=NotificationKind.choices)
    source_key = models.CharField(
        _("source"),
        max_length=120,
        help_text=_("What caused it, e.g. measures.case_decided:<case id>."),
    )
    language = models.CharField(_("language"), max_length=8)
    recipient = models.CharField(
        _("sent to"), max_length=254, blank=True, help_text=_("The e-mail or phone sent to.")
    )
    subject = models.CharField(_("subject line"), max_length=250)
    body = models.TextField(_("text"))
    link = models.URLField(_("link"), max_length=500, blank=True)
    message_id = models.UUIDField(
        _("message id"),
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text=_("The idempotency key a gateway receives: a repeat is never a second SMS."),
    )
    status = FSMField(
        _("status"),
        max_length=8,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
        protected=True,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error, or why it was skipped"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    jurisdiction = Jurisdiction(region="person__region", municipality="person__municipality")

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key", "channel", "person"], name="notification_once_per_source"
            ),
            models.CheckConstraint(
                condition=Q(status__in=NotificationStatus.values), name="notification_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=NotificationChannel.values),
                name="notification_channel_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values), name="notification_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=NotificationStatus.SENT) | Q(sent_at__isnull=False),
                name="notification_sent_has_time",
            ),
        ]
        indexes = [
            # The sending loop's queue: what is due, oldest first.
            models.Index(
                fields=["next_attempt_at"], name="notification_due", condition=Q(status__in=UNSENT)
            ),
            # A person's inbox, newest first.
            models.Index(fields=["person", "-created_at"], name="notification_inbox"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.person_id} {self.source_key} [{self.status}]"

    # The transitions; only contact_center/services.py calls them, under the row's lock.
    @transition(field=status, source=UNSENT, target=NotificationStatus.SENT)
    def mark_sent(self) -> None: ...

    @transition(field=status, source=UNSENT, target=NotificationStatus.FAILED)
    def mark_failed(self) -> None: ...

    @transition(field=status, source=NotificationStatus.FAILED, target=NotificationStatus.PENDING)
    def requeue(self) -> None: ...

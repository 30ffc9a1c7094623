"""Audit services and selectors: views of personal files and the history of changes."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from platform_core.models import PersonalFileView, User


def personal_file_view_log(
    *,
    actor: User,
    subject: models.Model,
    channel: str,
    purpose: str = "",
    remote_addr: str | None = None,
) -> PersonalFileView:
    """Record that actor opened subject's personal file."""
    return PersonalFileView.objects.create(
        actor=actor,
        subject_type=subject._meta.label_lower,
        subject_id=str(subject.pk),
        viewed_at=timezone.now(),
        channel=channel,
        purpose=purpose,
        remote_addr=remote_addr,
    )


def change_history(*, instance: models.Model) -> list[dict[str, Any]]:
    """List the changes of a model tracked by django-simple-history, newest first.

    Each entry: when, who, what kind of change, and for each changed field its old and new
    value.
    """
    records = list(instance.history.select_related("history_user").order_by("-history_date"))
    entries = []
    for newer, older in zip(records, [*records[1:], None], strict=True):
        if older is None:
            changes = [
                {"field": f.name, "old": None, "new": getattr(newer, f.attname)}
                for f in instance._meta.concrete_fields
                if getattr(newer, f.attname, None) not in (None, "", [])
            ]
        else:
            delta = newer.diff_against(older)
            changes = [{"field": c.field, "old": c.old, "new": c.new} for c in delta.changes]
        entries.append(
            {
                "at": newer.history_date,
                "who": newer.history_user.get_username() if newer.history_user else None,
                "kind": {"+": "created", "~": "changed", "-": "deleted"}[newer.history_type],
                "reason": newer.history_change_reason or "",
                "changes": changes,
            }
        )
    return entries

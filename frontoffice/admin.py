"""The staff side of the portal: citizens' appeals, answered here (scoped to the person's
territory); the citizens' logins and the certificates issued, read only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontoffice.models import Appeal, AppealStatus, Certificate, CitizenAccount
from frontoffice.services import appeal_answer
from platform_core.admin import ReadOnlyAdmin, RecordAdmin
from platform_core.errors import Conflict


@admin.register(Appeal)
class AppealAdmin(RecordAdmin):
    list_display = ["id", "kind", "person", "status", "created_at", "answered_at"]
    list_filter = ["status", "kind"]
    search_fields = ["person__last_name", "person__snils", "text"]
    list_select_related = ["person"]
    fields = [
        "kind",
        "person",
        "filed_by",
        "case",
        "text",
        "created_at",
        "status",
        "answer",
        "answered_by",
        "answered_at",
    ]
    actions = ["take_into_work"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        answered = obj is not None and obj.status == AppealStatus.ANSWERED
        return [f for f in self.fields if answered or f != "answer"]

    def save_model(self, request: HttpRequest, obj: Appeal, form: Any, change: bool) -> None:
        try:
            appeal_answer(
                appeal=obj,
                answer=form.cleaned_data.get("answer", ""),
                officer=request.user,
                now=timezone.now(),
            )
        except (ValidationError, Conflict) as exc:
            message = exc.messages if isinstance(exc, ValidationError) else [str(exc.message)]
            self.message_user(request, " ".join(message), messages.ERROR)

    @admin.action(description=_("Take into work"), permissions=["operate"])
    def take_into_work(self, request: HttpRequest, queryset: Any) -> None:
        taken = queryset.filter(status=AppealStatus.SUBMITTED).update(status=AppealStatus.IN_WORK)
        self.message_user(request, _("Taken into work: %(n)d.") % {"n": taken}, messages.SUCCESS)


@admin.register(CitizenAccount)
class CitizenAccountAdmin(ReadOnlyAdmin):
    list_display = ["person", "user", "demo", "created_at"]
    list_select_related = ["person", "user"]
    search_fields = ["person__last_name", "person__snils"]


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["code", "kind", "person", "issued_at"]
    list_filter = ["kind"]
    list_select_related = ["person"]
    search_fields = ["code", "person__last_name"]
    exclude = ["content"]

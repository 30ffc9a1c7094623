"""API plumbing shared by every app: errors as clear 4xx, scoped viewsets, filters
PostgreSQL can run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.rest_framework import FilterSet as RestFilterSet
from rest_framework import serializers
from rest_framework import status as http
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from platform_core.errors import DomainError
from platform_core.scoping import scope_queryset


class _TextKeyMixin:
    """A reference by a text key: one PostgreSQL cannot hold (a NUL character) names no row,
    and is refused as such instead of being looked up (the database would raise)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and "\x00" in data:
            raise serializers.ValidationError(_("Null characters are not allowed."))
        return super().to_internal_value(data)  # type: ignore[misc]


class TextKeyRelatedField(_TextKeyMixin, serializers.PrimaryKeyRelatedField):
    """A row named by its text primary key (a region's code)."""


class CodeRelatedField(_TextKeyMixin, serializers.SlugRelatedField):
    """A row named by a text field of its own (a measure's code)."""


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn domain and model validation errors into 4xx answers that name the field."""
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"detail": str(exc.message), "code": exc.code}
        if exc.field:
            body["field"] = exc.field
        problems = getattr(exc, "problems", None)  # several faults, each with its field
        if isinstance(problems, dict):
            body["errors"] = [{"field": f, "message": str(m)} for f, m in problems.items()]
        elif problems:
            body["errors"] = [{"field": p.field, "message": str(p.message)} for p in problems]
        return Response(body, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return Response(exc.message_dict, status=http.HTTP_400_BAD_REQUEST)
        return Response({"detail": exc.messages}, status=http.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


class ScopedQuerysetMixin:
    """A viewset whose queryset is always narrowed to the caller's jurisdiction.

    Reads use the "view" scope; unsafe methods use the "change" scope, so an object outside
    the caller's powers answers 404 to a write as it does to a read.
    """

    def get_queryset(self):  # type: ignore[no-untyped-def]
        queryset = super().get_queryset()  # type: ignore[misc]
        action = "view" if self.request.method in ("GET", "HEAD", "OPTIONS") else "change"  # type: ignore[attr-defined]
        return scope_queryset(queryset, user=self.request.user, action=action)  # type: ignore[attr-defined]


class PostgresDateTimeField(IsoDateTimeField):
    """An ISO date and time PostgreSQL can hold: its UTC offset within ±15:59."""

    def to_python(self, value: Any) -> Any:
        result = super().to_python(value)
        offset = result.utcoffset() if result is not None else None
        if offset is not None and abs(offset) >= timedelta(hours=16):
            raise DjangoValidationError(
                _("The UTC offset must be between -15:59 and +15:59."), code="invalid"
            )
        return result


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = PostgresDateTimeField


class FilterSet(RestFilterSet):
    """The filter sets our viewsets get from `filterset_fields`."""

    FILTER_DEFAULTS = {
        **RestFilterSet.FILTER_DEFAULTS,
        models.DateTimeField: {"filter_class": DateTimeFilter},
    }


class FilterBackend(DjangoFilterBackend):
    filterset_base = FilterSet

"""REST API of integration: the signed inbound endpoints of external systems, and the
monitoring of the inbox for platform operators."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, viewsets
from rest_framework.authentication import BaseAuthentication
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.json import strict_constant
from rest_framework.views import APIView

from integration import selectors
from integration.contracts import resolved_schema
from integration.enums import Contract, Scope
from integration.models import ExternalSystem, InboundEvent
from integration.services import inbox
from platform_core.api import ScopedQuerysetMixin

SIGNATURE_HEADERS = [
    OpenApiParameter("X-System", str, OpenApiParameter.HEADER, required=True),
    OpenApiParameter("X-Timestamp", str, OpenApiParameter.HEADER, required=True),
    OpenApiParameter(
        "X-Signature",
        str,
        OpenApiParameter.HEADER,
        required=True,
        description="hex HMAC-SHA256 of '<X-Timestamp>.' followed by the body, keyed by the "
        "system's secret",
    ),
]


class SignedSystem(BaseAuthentication):
    """An external system, by the HMAC signature of the request (integration/services/inbox.py)."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ExternalSystem]:
        try:
            system = _signed_by(request)
        except inbox.NotAuthenticated as exc:
            raise exceptions.AuthenticationFailed(str(exc.message)) from exc
        return AnonymousUser(), system

    def authenticate_header(self, request: Request) -> str:
        return 'HMAC-SHA256 headers="X-System X-Timestamp X-Signature"'


def _signed_by(request: HttpRequest | Request) -> ExternalSystem:
    """The system whose signature the request carries. Raises inbox.NotAuthenticated."""
    meta = request.META
    return inbox.system_authenticate(
        code=meta.get("HTTP_X_SYSTEM", ""),
        timestamp=meta.get("HTTP_X_TIMESTAMP", ""),
        signed=meta.get("HTTP_X_SIGNATURE", ""),
        body=request.body,
        now=timezone.now(),
    )


class SignedSystemScheme(OpenApiAuthenticationExtension):
    target_class = SignedSystem
    name = "signedSystem"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Signature",
            "description": "HMAC-SHA256 of '<X-Timestamp>.<body>' with the system's secret, "
            "with X-System (its code) and X-Timestamp (Unix seconds, at most 5 minutes off).",
        }


class SystemMaySend(BasePermission):
    """The signed system holds the view's scope."""

    def has_permission(self, request: Request, view: Any) -> bool:
        system = request.auth
        if not isinstance(system, ExternalSystem):
            return False
        if view.scope not in system.scopes:
            self.message = _("System %(code)s may not send %(scope)s.") % {
                "code": system.code,
                "scope": Scope(view.scope).label,
            }
            return False
        return True


class _Inbound(APIView):
    authentication_classes = [SignedSystem]
    permission_classes = [SystemMaySend]
    contract: str = ""
    scope: str = ""

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Callable[..., HttpResponseBase]:
        view = super().as_view(**initkwargs)
        # Another system's request, never a person's: the middleware of people (sessions,
        # CSRF, users, messages) is skipped (config/middleware.py).
        view.machine_endpoint = True  # type: ignore[attr-defined]
        return view


class InboundEventView(_Inbound):
    """Receive one event.

    The URL's view is a plain Django function in front of this DRF view (`as_view`): the
    usual request (JSON in, JSON or anything accepted, a good signature, a system with the
    scope) is answered there without DRF's request wrapping, content negotiation and parsers,
    which cost more than a quarter of the acknowledgement's CPU; every other one (refused,
    malformed, another content type or Accept) goes on to DRF, which answers it as it always
    did. Both make the same domain call and answer with the same bytes and headers.
    """

    def post(self, request: Request) -> Response:
        answer, status = self.receive(system=request.auth, document=request.data)
        return Response(answer, status=status)

    @classmethod
    def receive(cls, *, system: ExternalSystem, document: Any) -> tuple[dict[str, Any], int]:
        """Store one document; the answer and its HTTP status."""
        (receipt,) = inbox.inbound_receive(
            system=system, contract=cls.contract, documents=[document], now=timezone.now()
        )
        if receipt.problems:
            return {
                "detail": _("The event does not follow its contract."),
                "errors": receipt.answer["errors"],
            }, 400
        return receipt.answer, receipt.status

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Callable[..., HttpResponseBase]:
        drf_view = super().as_view(**initkwargs)
        allowed = ", ".join(cls().allowed_methods)
        renderer = JSONRenderer()

        def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            system, document = _plain_signed_json(request, scope=cls.scope)
            if system is None:
                return drf_view(request, *args, **kwargs)
            answer, status = cls.receive(system=system, document=document)
            response = HttpResponse(
                renderer.render(answer), status=status, content_type=renderer.media_type
            )
            response["Allow"] = allowed
            patch_vary_headers(response, ["Accept"])
            return response

        view = csrf_exempt(view)
        # As DRF's view: drf-spectacular documents `cls`, the middleware reads the marks.
        for mark in ("cls", "initkwargs", "login_required", "machine_endpoint"):
            setattr(view, mark, getattr(drf_view, mark))
        return view


# What the plain path takes; anything else goes to DRF (its parser and negotiation decide).
PLAIN_CONTENT_TYPES = frozenset({"application/json", "application/json; charset=utf-8"})
PLAIN_ACCEPT = frozenset({"", "*/*", "application/json"})


def _plain_signed_json(request: HttpRequest, *, scope: str) -> tuple[ExternalSystem | None, Any]:
    """The signed system and the parsed body of a request DRF would accept and parse alike;
    (None, None) if DRF is to decide."""
    meta = request.META
    if (
        meta.get("CONTENT_TYPE", "").lower() not in PLAIN_CONTENT_TYPES
        or meta.get("HTTP_ACCEPT", "") not in PLAIN_ACCEPT
    ):
        return None, None
    try:
        system = _signed_by(request)
    except inbox.NotAuthenticated:
        return None, None
    if scope not in system.scopes or not request.body:
        return None, None
    try:  # as DRF's JSONParser: UTF-8, no NaN or Infinity
        return system, json.loads(request.body.decode("utf-8"), parse_constant=strict_constant)
    except ValueError:
        return None, None


class BatchSerializer(serializers.Serializer):
    events = serializers.ListField(
        child=serializers.JSONField(),
        min_length=1,
        max_length=settings.INTEGRATION_BATCH_MAX_EVENTS,
    )


class InboundBatchView(_Inbound):
    """Receive many events at once; each gets its own result, in order."""

    def post(self, request: Request) -> Response:
        batch = BatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        receipts = inbox.inbound_receive(
            system=request.auth,
            contract=self.contract,
            documents=batch.validated_data["events"],
            now=timezone.now(),
        )
        counts = {"received": 0, "repeated": 0, "rejected": 0, "conflicts": 0}
        for receipt in receipts:
            if receipt.status == 400:
                counts["rejected"] += 1
            elif receipt.status == 409:
                counts["conflicts"] += 1
            else:
                counts["received" if receipt.stored else "repeated"] += 1
        return Response({**counts, "results": [r.answer for r in receipts]})


class InboundStatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = InboundEvent
        fields = ["event_id", "event_type", "status", "received_at", "processed_at", "problem"]


class InboundStatusView(_Inbound):
    """What became of an event this system sent."""

    def get(self, request: Request, event_id: str) -> Response:
        found = selectors.inbound_status(system=request.auth, event_id=event_id)
        if found is None or found.contract != self.contract:
            raise exceptions.NotFound(
                _("No event %(id)s was received from this system.") % {"id": event_id}
            )
        return Response(InboundStatusSerializer(found).data)


def inbound_views(contract: str, scope: str) -> tuple[type, type, type]:
    """The three endpoints of one contract, with its schema in the OpenAPI document."""
    body = resolved_schema(contract)
    name = "".join(part.title() for part in contract.split("_"))
    common = {"parameters": SIGNATURE_HEADERS, "tags": ["integration"]}

    class Single(InboundEventView):
        @extend_schema(
            operation_id=f"{contract}_receive",
            request={"application/json": body},
            responses={
                202: OpenApiTypes.OBJECT,
                400: OpenApiTypes.OBJECT,
                409: OpenApiTypes.OBJECT,
            },
            **common,
        )
        def post(self, request: Request) -> Response:
            return super().post(request)

    class Batch(InboundBatchView):
        @extend_schema(
            operation_id=f"{contract}_receive_batch",
            request={
                "application/json": {
                    "type": "object",
                    "required": ["events"],
                    "properties": {
                        "events": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": settings.INTEGRATION_BATCH_MAX_EVENTS,
                            "items": body,
                        }
                    },
                }
            },
            responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
            **common,
        )
        def post(self, request: Request) -> Response:
            return super().post(request)

    class Status(InboundStatusView):
        @extend_schema(
            operation_id=f"{contract}_status",
            responses={200: InboundStatusSerializer, 404: OpenApiTypes.OBJECT},
            **common,
        )
        def get(self, request: Request, event_id: str) -> Response:
            return super().get(request, event_id)

    views = (Single, Batch, Status)
    for view, suffix in zip(views, ("View", "BatchView", "StatusView"), strict=True):
        view.__name__ = view.__qualname__ = f"{name}{suffix}"
        view.contract, view.scope = contract, scope
    return views


CIVIL_REGISTRY = inbound_views(Contract.CIVIL_REGISTRY_EVENT, Scope.CIVIL_REGISTRY_EVENTS)
DISABILITY = inbound_views(Contract.DISABILITY_EVENT, Scope.DISABILITY_EVENTS)
EDUCATION = inbound_views(Contract.EDUCATION_EVENT, Scope.EDUCATION_EVENTS)


# Monitoring, for platform operators (scoped like the event log)


class ExternalSystemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExternalSystem
        fields = ["id", "code", "name", "kind", "scopes", "active", "created_at"]


class InboundEventSerializer(serializers.ModelSerializer):
    system = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = InboundEvent
        fields = [
            "id",
            "system",
            "event_id",
            "contract",
            "event_type",
            "status",
            "received_at",
            "processed_at",
            "attempts",
            "corrects_event_id",
            "cancelled",
            "problem",
            "result",
            "payload",
        ]


class DiscardSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class ExternalSystemViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = ExternalSystem.objects.order_by("code")
    serializer_class = ExternalSystemSerializer
    filterset_fields = ["kind", "active"]


class InboundEventViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = InboundEvent.objects.select_related("system").order_by("-received_at", "-id")
    serializer_class = InboundEventSerializer
    filterset_fields = {
        "status": ["exact"],
        "contract": ["exact"],
        "event_type": ["exact"],
        "system__code": ["exact"],
        "received_at": ["gte", "lte"],
    }

    @action(detail=False, methods=["get"])
    def stats(self, request: Request) -> Response:
        """Per system and contract: events by status, the oldest waiting, processing lag."""
        return Response(selectors.inbound_stats(self.get_queryset()))

    @extend_schema(request=None, responses={200: InboundEventSerializer})
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str | None = None) -> Response:
        """Apply an event in review or failed again (409 otherwise)."""
        replayed = inbox.inbound_replay(inbound=self.get_object())
        replayed.refresh_from_db()
        return Response(InboundEventSerializer(replayed).data)

    @extend_schema(request=DiscardSerializer, responses={200: InboundEventSerializer})
    @action(detail=True, methods=["post"])
    def discard(self, request: Request, pk: str | None = None) -> Response:
        """Decide that an event in review or failed is not to be applied, with a reason."""
        body = DiscardSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        discarded = inbox.inbound_discard(
            inbound=self.get_object(), reason=body.validated_data["reason"]
        )
        return Response(InboundEventSerializer(discarded).data)

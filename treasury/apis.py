"""API of the treasury (scoped to the caller's territory): accruals, payments, batches with
the checker's approval and the sending to the bank, and the ledger."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from platform_core.api import ScopedQuerysetMixin
from treasury.models import Accrual, LedgerEntry, Payment, PaymentBatch, Posting
from treasury.services.bank import BankRefused, batch_approve, batch_send


class AccrualSerializer(serializers.ModelSerializer):
    measure = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Accrual
        fields = [
            "id",
            "assignment",
            "person",
            "measure",
            "region",
            "source",
            "kind",
            "period",
            "day_from",
            "day_to",
            "rate",
            "amount",
            "corrects",
            "accrued_in",
            "payment",
        ]


class PaymentSerializer(serializers.ModelSerializer):
    measure = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "uuid",
            "batch",
            "assignment",
            "person",
            "measure",
            "region",
            "source",
            "period",
            "amount",
            "status",
            "status_at",
            "return_reason",
            "channel",
            "recipient_name",
            "bic",
            "account",
            "address",
            "created_at",
        ]


class PaymentBatchSerializer(serializers.ModelSerializer):
    formed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    approved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = PaymentBatch
        fields = [
            "id",
            "uuid",
            "region",
            "source",
            "channel",
            "period",
            "pay_date",
            "status",
            "count",
            "total",
            "checksum",
            "file_name",
            "formed_at",
            "formed_by",
            "approved_by",
            "approved_at",
        ]


class PostingSerializer(serializers.ModelSerializer):
    measure = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Posting
        fields = ["account", "source", "measure", "debit", "credit"]


class LedgerEntrySerializer(serializers.ModelSerializer):
    postings = PostingSerializer(many=True, read_only=True)

    class Meta:
        model = LedgerEntry
        fields = ["id", "kind", "region", "period", "at", "description", "postings"]


class AccrualViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Accruals of the caller's territory."""

    queryset = Accrual.objects.select_related("measure").order_by("-period", "-id")
    serializer_class = AccrualSerializer
    filterset_fields = ["person", "assignment", "period", "kind", "source"]


class PaymentViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Payments of the caller's territory, with the details each was made on."""

    queryset = Payment.objects.select_related("measure").order_by("-created_at", "-id")
    serializer_class = PaymentSerializer
    filterset_fields = ["person", "assignment", "batch", "period", "status", "channel"]


class PaymentBatchViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Payment batches of the caller's territory; approved by a second officer, then sent."""

    queryset = PaymentBatch.objects.select_related("formed_by", "approved_by").order_by(
        "-formed_at", "-id"
    )
    serializer_class = PaymentBatchSerializer
    filterset_fields = ["period", "status", "source", "channel"]

    @extend_schema(request=None, responses={200: PaymentBatchSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve a formed batch; not by whoever formed it (409)."""
        done = batch_approve(batch=self.get_object(), officer=request.user, now=timezone.now())
        return Response(PaymentBatchSerializer(done).data)

    @extend_schema(request=None, responses={200: PaymentBatchSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request: Request, pk: str | None = None) -> Response:
        """Send an approved batch to the bank; 400 with the bank's line-numbered problems if
        it refuses the batch, 503 if it cannot be reached."""
        try:
            done = batch_send(batch=self.get_object(), now=timezone.now())
        except BankRefused as exc:
            return Response(
                {"detail": str(exc.message), "code": exc.code, "errors": exc.problems},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(PaymentBatchSerializer(done).data)


class LedgerEntryViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """The ledger of the caller's territory: entries with their postings."""

    queryset = LedgerEntry.objects.prefetch_related("postings__measure").order_by("-at", "-id")
    serializer_class = LedgerEntrySerializer
    filterset_fields = ["kind", "period"]

"""API of the treasury (scoped to the caller's territory): accruals, payments, batches with
the checker's approval and the sending to the bank, and the ledger."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from platform_core.api import ScopedQuerysetMixin
from treasury.models import Accrual, LedgerEntry, Payment, PaymentBatch, Posting
from treasury.services.bank import BankRefused, batch_approve, batch_send
from treasury.services.reports import (
    ReportFormat,
    ReportInvalid,
    ReportKind,
    ReportTooLarge,
    report_build,
    report_csv,
    report_file_name,
    report_filter,
    report_pdf,
)


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
            "withheld",
            "status",
            "status_at",
            "return_reason",
            "recall_requested_at",
            "recall_refused",
            "channel",
            "recipient_name",
            "bic",
            "account",
            "card",
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


class ReportQuerySerializer(serializers.Serializer):
    period = serializers.CharField(
        required=False,
        help_text=gettext_lazy(
            "The month, YYYY-MM: of the payments (register, returns) or of the batches "
            "(reconciliation). Needed by all but the overpayments and a batch's register."
        ),
    )
    batch = serializers.CharField(
        required=False, help_text=gettext_lazy("A batch's id (UUID): the register of one batch.")
    )
    region = serializers.CharField(
        required=False, help_text=gettext_lazy("A region's code, e.g. 27.")
    )
    format = serializers.ChoiceField(
        choices=ReportFormat.choices,
        default=ReportFormat.CSV,
        help_text=gettext_lazy("The file's format: csv (the default) or pdf."),
    )


class _ErrorsAsJson(BaseContentNegotiation):
    """A report is a file; only an error is rendered, and always as JSON: `format` is the
    report's parameter here, not DRF's override of the renderer."""

    def select_parser(self, request, parsers):  # type: ignore[no-untyped-def]
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):  # type: ignore[no-untyped-def]
        return renderers[0], renderers[0].media_type


class TreasuryReportView(APIView):
    """A treasury report over the caller's jurisdiction, as a CSV or PDF file."""

    renderer_classes = [JSONRenderer]
    content_negotiation_class = _ErrorsAsJson

    @extend_schema(
        operation_id="treasury_report",
        parameters=[
            OpenApiParameter(
                "kind",
                str,
                OpenApiParameter.PATH,
                enum=ReportKind.values,
                description="register, reconciliation, returns or overpayments.",
            ),
            ReportQuerySerializer,
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="UTF-8 with a byte order mark: headings, rows, a totals row.",
            ),
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="A wrong parameter: {parameter: [message]}; a PDF of more rows "
                "than TREASURY_REPORT_PDF_MAX_ROWS is refused under `format`.",
            ),
        },
    )
    def get(self, request: Request, kind: str) -> HttpResponse:
        """The payment register of a batch or a month, the reconciliation of a month's
        batches with the bank (expected, credited, returned, awaiting), the payments
        returned in a month, or the overpayments outstanding; the caller's rows only."""
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        try:
            spec = report_filter(
                kind=kind,
                period=params.get("period"),
                batch=params.get("batch"),
                region=params.get("region"),
                user=request.user,
            )
            report = report_build(kind=kind, spec=spec, now=timezone.now(), user=request.user)
            if params["format"] == ReportFormat.PDF:
                answer: HttpResponse = HttpResponse(
                    report_pdf(report), content_type="application/pdf"
                )
            else:
                answer = StreamingHttpResponse(
                    report_csv(report), content_type="text/csv; charset=utf-8"
                )
        except (ReportInvalid, ReportTooLarge) as exc:
            raise serializers.ValidationError({exc.field: [str(exc.message)]}) from None
        name = report_file_name(report, params["format"])
        answer["Content-Disposition"] = f'attachment; filename="{name}"'
        return answer

"""The citizen portal (server-rendered, Russian first): my rights, my cases, my payments, my
bank details, my inbox; acting for a ward. Every object is looked up among the persons the
citizen may act for, so an id of anyone else's is a 404 (frontoffice.selectors)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from frontoffice.auth import (
    ID_TOKEN,
    attempt_from,
    citizen_login,
    end_session_url,
    oidc_enabled,
    safe_next,
)
from frontoffice.certificates import (
    CertificateInvalid,
    capital_applies,
    certificate_issue,
    certificate_pdf,
    holder_initials,
)
from frontoffice.models import (
    Appeal,
    AppealKind,
    Certificate,
    CertificateKind,
    CitizenAccount,
)
from frontoffice.navigator import Situation, measures_for
from frontoffice.selectors import (
    assignments_of,
    case_explained,
    cases_of,
    inbox_of,
    offers_of,
    payments_of,
    persons_represented,
)
from frontoffice.services import (
    BANK_FIELDS,
    NotYours,
    TooManyAttempts,
    appeal_file,
    bank_details_change,
    inbox_read,
    offer_accept,
    person_for,
)
from measures.enums import CaseStatus, Channel, DecisionOutcome
from measures.models import Case
from measures.rules.plain import explanation_plain
from measures.rules.sources import Status
from measures.services.entitlements import entitlements_calculate
from platform_core.errors import DomainError
from platform_core.models import Region
from platform_core.texts import said_plain
from registries.enums import StatusKind
from registries.models import Person
from treasury.enums import PaymentStatus

ACTING = "portal_acting_for"


@dataclass
class Portal:
    citizen: Person
    acting: Person
    persons: list[Person]


def citizen_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page of a logged-in citizen: `request.portal` says who they are and for whom they
    act (themselves unless they switched to a ward)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account = getattr(request.user, "citizen", None) if request.user.is_authenticated else None
        if account is None:
            return redirect_to_login(request.get_full_path(), "frontoffice:login")
        citizen = account.person
        with timezone.override(ZoneInfo(citizen.region.timezone)):  # the citizen's own time
            persons = persons_represented(citizen, on=timezone.localdate())
            acting = next((p for p in persons if p.pk == request.session.get(ACTING)), citizen)
            request.portal = Portal(citizen=citizen, acting=acting, persons=persons)  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

    return wrapped


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200):  # type: ignore[no-untyped-def]
    return render(
        request, f"frontoffice/{template}", {"portal": request.portal, **context}, status=status
    )


def _case_of(request: HttpRequest, case_id: int) -> Case:
    """A case of someone the citizen may act for; anyone else's is as if it did not exist."""
    case = get_object_or_404(
        Case.objects.select_related("measure", "person"),
        pk=case_id,
        person__in=[p.pk for p in request.portal.persons],  # type: ignore[attr-defined]
    )
    request.portal.acting = case.person  # type: ignore[attr-defined]
    request.session[ACTING] = case.person_id
    return case


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """The login page: through the identity provider when one is configured
    (frontoffice.auth), and the demo login (pick a seeded citizen) only with
    PORTAL_DEMO_LOGIN."""
    demo = settings.PORTAL_DEMO_LOGIN
    oidc = oidc_enabled()
    if not (demo or oidc) or (request.method == "POST" and not demo):
        raise Http404
    accounts = (
        CitizenAccount.objects.filter(demo=True).select_related("person")
        if demo
        else CitizenAccount.objects.none()
    )
    page = {"accounts": accounts, "demo": demo, "oidc": oidc}
    error = ""
    if request.method == "POST":
        try:
            attempt_from(request, "login")
        except TooManyAttempts as exc:
            return render(
                request, "frontoffice/login.html", {**page, "error": exc.message}, status=429
            )
        chosen = _submitted_id(request.POST.get("account", ""))
        account = accounts.filter(pk=chosen).first() if chosen else None
        if account is None:
            error = _("Choose whom to log in as.")
        else:
            citizen_login(request, account)
            return redirect(safe_next(request, request.POST.get("next")))
    return render(
        request,
        "frontoffice/login.html",
        {**page, "error": error, "next": request.GET.get("next", "")},
        status=400 if error else 200,
    )


def _submitted_id(text: str) -> int | None:
    """The id a form submitted: ASCII digits that fit the database's integer ids, else None
    (`str.isdigit` takes "²" too, and a longer number overflows the column)."""
    return int(text) if re.fullmatch(r"[0-9]{1,18}", text) else None


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """End the portal's session, and the identity provider's when the citizen came through it."""
    ending = end_session_url(request, request.session.get(ID_TOKEN))
    logout(request)
    return redirect(ending or "frontoffice:login")


@citizen_view
@require_POST
def act_as(request: HttpRequest) -> HttpResponse:
    """Switch to a ward (or back to oneself)."""
    try:
        person = person_for(
            request.portal.citizen,  # type: ignore[attr-defined]
            request.POST.get("person"),
            on=timezone.localdate(),
        )
    except NotYours:
        raise Http404 from None
    request.session[ACTING] = person.pk
    return redirect("frontoffice:rights")


@citizen_view
def rights(request: HttpRequest) -> HttpResponse:
    """My rights: what was found for me and waits for my consent, what I receive, what was
    refused and why."""
    acting = request.portal.acting  # type: ignore[attr-defined]
    offers = [(case, case_explained(case)) for case in offers_of(acting)]
    refused = [
        (case, case_explained(case))
        for case in cases_of(acting).filter(decision__outcome=DecisionOutcome.REFUSE)[:10]
    ]
    return _page(
        request,
        "rights.html",
        {
            "offers": offers,
            "assignments": assignments_of(acting)[:50],
            "refused": refused,
        },
    )


@citizen_view
@require_http_methods(["GET", "POST"])
def offer(request: HttpRequest, case_id: int) -> HttpResponse:
    """An offer with its explanation, and the one-click application."""
    case = _case_of(request, case_id)
    error = ""
    if request.method == "POST":
        try:
            offer_accept(
                citizen=request.portal.citizen,  # type: ignore[attr-defined]
                case=case,
                now=timezone.now(),
            )
        except DomainError as exc:
            error = str(exc.message)
        else:
            return redirect("frontoffice:case", case_id=case.pk)
    return _page(
        request,
        "offer.html",
        {
            "case": case,
            "explained": case_explained(case),
            "error": error,
            "open": case.status == CaseStatus.OFFERED,
        },
        status=409 if error else 200,
    )


@citizen_view
def cases(request: HttpRequest) -> HttpResponse:
    return _page(request, "cases.html", {"cases": cases_of(request.portal.acting)[:100]})  # type: ignore[attr-defined]


@citizen_view
def case(request: HttpRequest, case_id: int) -> HttpResponse:
    """A case with its timeline across channels."""
    found = _case_of(request, case_id)
    entries = [
        {
            "at": entry.at,
            "what": entry.get_kind_display(),
            "status": CaseStatus(entry.to_status).label if entry.to_status else "",
            "text": said_plain(entry.data.get("said"), entry.text),
            "channel": Channel(entry.channel).label if entry.channel else "",
        }
        for entry in found.entries.order_by("at", "pk")
    ]
    return _page(
        request,
        "case.html",
        {
            "case": found,
            "entries": entries,
            "explained": case_explained(found),
            "decision": getattr(found, "decision", None),
        },
    )


# How a payment's status reads to the citizen it pays (the staff see the treasury's words).
PAYMENT_STATUS_FOR_CITIZEN = {
    PaymentStatus.FORMED: gettext_lazy("Being prepared for payment"),
    PaymentStatus.SENT: gettext_lazy("Sent to your bank"),
    PaymentStatus.CREDITED: gettext_lazy("Credited to your account"),
    PaymentStatus.RETURNED: gettext_lazy("Returned by the bank: check your payment details"),
    PaymentStatus.WITHDRAWN: gettext_lazy("Postponed: it will be paid later"),
    PaymentStatus.RECALLED: gettext_lazy("Taken back by the bank: it will be paid again"),
}


@citizen_view
def payments(request: HttpRequest) -> HttpResponse:
    found = list(payments_of(request.portal.acting)[:200])  # type: ignore[attr-defined]
    for payment in found:
        payment.status_for_citizen = PAYMENT_STATUS_FOR_CITIZEN.get(
            payment.status, payment.get_status_display()
        )  # type: ignore[attr-defined]
    returned = any(p.status == PaymentStatus.RETURNED for p in found)
    return _page(request, "payments.html", {"payments": found, "returned": returned})


@citizen_view
@require_http_methods(["GET", "POST"])
def details(request: HttpRequest) -> HttpResponse:
    """Bank details: BIC and account, or a Mir card, each checked (control key, Luhn)."""
    acting = request.portal.acting  # type: ignore[attr-defined]
    values = {name: getattr(acting, name) for name in BANK_FIELDS}
    errors: dict[str, list[str]] = {}
    saved = False
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in BANK_FIELDS}
        try:
            bank_details_change(
                citizen=request.portal.citizen,  # type: ignore[attr-defined]
                person=acting,
                changes=values,
            )
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            saved = True
    return _page(
        request,
        "details.html",
        {"values": values, "errors": errors, "saved": saved},
        status=400 if errors else 200,
    )


@citizen_view
def inbox(request: HttpRequest) -> HttpResponse:
    found = list(inbox_of(request.portal.acting)[:100])  # type: ignore[attr-defined]
    unread = {n.pk for n in found if n.read_at is None}
    inbox_read(ids=unread, now=timezone.now())  # shown once as new
    return _page(request, "inbox.html", {"notifications": found, "unread": unread})


@citizen_view
@require_http_methods(["GET", "POST"])
def certificates(request: HttpRequest) -> HttpResponse:
    """Certificates on demand: issued as a PDF with a check code; the ones issued before."""
    acting = request.portal.acting  # type: ignore[attr-defined]
    errors: dict[str, str] = {}
    form = {"kind": request.POST.get("kind", ""), "period_from": "", "period_to": ""}
    if request.method == "POST":
        days: dict[str, date | None] = {}
        for name in ("period_from", "period_to"):
            form[name] = request.POST.get(name, "").strip()
            try:
                days[name] = date.fromisoformat(form[name]) if form[name] else None
            except ValueError:
                errors[name] = _("Enter a date as YYYY-MM-DD.")
        if not errors:
            try:
                issued = certificate_issue(
                    person=acting,
                    kind=form["kind"],
                    user=request.user,
                    now=timezone.now(),
                    **days,
                )
            except CertificateInvalid as exc:
                errors[exc.field or "kind"] = str(exc.message)
            else:
                return redirect("frontoffice:certificate_pdf", code=issued.code)
    issued_before = Certificate.objects.filter(person=acting).order_by("-issued_at")[:50]
    # The capital's balance is offered only to a holder of a capital certificate.
    holder = capital_applies(acting, now=timezone.now())
    kinds = [
        (value, label)
        for value, label in CertificateKind.choices
        if value != CertificateKind.CAPITAL or holder
    ]
    return _page(
        request,
        "certificates.html",
        {"form": form, "errors": errors, "issued": issued_before, "kinds": kinds},
        status=400 if errors else 200,
    )


@citizen_view
def certificate_pdf_view(request: HttpRequest, code: str) -> HttpResponse:
    """A certificate's PDF, for the citizen it was issued for (or their representative)."""
    certificate = get_object_or_404(
        Certificate.objects.select_related("person"),
        code=code,
        person__in=[p.pk for p in request.portal.persons],  # type: ignore[attr-defined]
    )
    response = HttpResponse(certificate_pdf(certificate), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{certificate.code}.pdf"'
    return response


@require_http_methods(["GET"])
def certificate_check(request: HttpRequest) -> HttpResponse:
    """The public check of a certificate by its code: what it says, its holder's initials,
    when it was issued; a wrong code is told so, and tries are limited."""
    code = request.GET.get("code", "").strip().upper()
    found = None
    if code:
        try:
            attempt_from(request, "check")
        except TooManyAttempts as exc:
            return render(request, "frontoffice/check.html", {"error": exc.message}, status=429)
        found = Certificate.objects.select_related("person").filter(code=code).first()
    return render(
        request,
        "frontoffice/check.html",
        {
            "code": code,
            "certificate": found,
            "holder": holder_initials(found.person) if found else "",
            "kind": CertificateKind(found.kind).label if found else "",
        },
        status=404 if code and found is None else 200,
    )


@citizen_view
@require_http_methods(["GET", "POST"])
def appeals(request: HttpRequest) -> HttpResponse:
    """Appeals, complaints and questions: sent to the staff, followed here with the answer."""
    acting = request.portal.acting  # type: ignore[attr-defined]
    form = {
        "kind": request.POST.get("kind", ""),
        "text": request.POST.get("text", ""),
        "case": request.POST.get("case", request.GET.get("case", "")),
    }
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        case = None
        if form["case"]:
            chosen = _submitted_id(form["case"])
            case = cases_of(acting).filter(pk=chosen).first() if chosen else None
            if case is None:
                errors["case"] = [_("Choose one of your cases.")]
        if not errors:
            try:
                appeal_file(
                    citizen=request.portal.citizen,  # type: ignore[attr-defined]
                    person=acting,
                    kind=form["kind"],
                    text=form["text"],
                    case=case,
                    now=timezone.now(),
                )
            except ValidationError as exc:
                errors = exc.message_dict
            else:
                return redirect("frontoffice:appeals")
    return _page(
        request,
        "appeals.html",
        {
            "form": form,
            "errors": errors,
            "kinds": AppealKind.choices,
            "cases": cases_of(acting)[:100],
            "appeals": Appeal.objects.filter(person=acting).select_related("case__measure")[:100],
        },
        status=400 if errors else 200,
    )


def _citizen_region(request: HttpRequest) -> str:
    account = getattr(request.user, "citizen", None) if request.user.is_authenticated else None
    return account.person.region_id if account else ""


@require_http_methods(["GET"])
def navigator(request: HttpRequest) -> HttpResponse:
    """The measures of a region by life situation (open to anyone; a citizen's own region
    first)."""
    region = request.GET.get("region") or _citizen_region(request) or "27"
    situation = request.GET.get("situation", "")
    regions = Region.objects.order_by("code")
    errors = {}
    if not regions.filter(pk=region).exists():
        errors["region"] = _("Choose a region from the list.")
    if situation and situation not in Situation.values:
        errors["situation"] = _("Choose a situation from the list.")
    cards = (
        measures_for(situation=situation, region_code=region, on=timezone.localdate())
        if situation and not errors
        else []
    )
    return render(
        request,
        "frontoffice/navigator.html",
        {
            "regions": regions,
            "region": region,
            "situations": Situation.choices,
            "situation": situation,
            "cards": cards,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


CALCULATOR_STATUSES = {
    "large_family": StatusKind.LARGE_FAMILY,
    "low_income": StatusKind.LOW_INCOME,
    "pensioner": StatusKind.PENSIONER,
    "unemployed": StatusKind.UNEMPLOYED,
    "student": StatusKind.STUDENT,
}


def _whole(text: str, field: str, errors: dict[str, str], *, low: int, high: int) -> int | None:
    try:
        value = int(text)
    except ValueError:
        errors[field] = _("Enter a whole number from %(low)d to %(high)d.") % {
            "low": low,
            "high": high,
        }
        return None
    if not low <= value <= high:
        errors[field] = _("Enter a whole number from %(low)d to %(high)d.") % {
            "low": low,
            "high": high,
        }
        return None
    return value


@require_http_methods(["GET"])
def calculator(request: HttpRequest) -> HttpResponse:
    """The production rules on a family described here; nothing about anyone is read or
    kept."""
    data = request.GET
    region = data.get("region") or _citizen_region(request) or "27"
    errors: dict[str, str] = {}
    results = []
    if "age" in data:
        age = _whole(data.get("age", ""), "age", errors, low=0, high=120)
        children: list[int] = []
        for part in filter(None, (p.strip() for p in data.get("children", "").split(","))):
            child = _whole(part, "children", errors, low=0, high=25)
            if child is not None:
                children.append(child)
        income = None
        if data.get("income", "").strip():
            try:
                income = Decimal(data["income"].replace(" ", "").replace(",", "."))
                if income < 0:
                    raise InvalidOperation
            except InvalidOperation:
                errors["income"] = _("Enter the family's income a month in roubles, e.g. 45000.")
        if data.get("sex") not in ("F", "M"):
            errors["sex"] = _("Choose one.")
        if not errors:
            try:
                outcomes = entitlements_calculate(
                    region_code=region,
                    on=timezone.localdate(),
                    age=age,
                    sex=data["sex"],
                    children_ages=children,
                    monthly_family_income=income,
                    statuses=[
                        Status(kind) for name, kind in CALCULATOR_STATUSES.items() if data.get(name)
                    ],
                    employed=bool(data.get("employed")),
                )
            except DomainError as exc:
                errors[exc.field or "region"] = str(exc.message)
            else:
                results = [
                    (
                        o,
                        explanation_plain(
                            {
                                **(o.evaluation.as_json() if o.evaluation else {}),
                                "outcome": o.outcome,
                                "as_of": timezone.localdate().isoformat(),
                            }
                        ),
                    )
                    for o in outcomes
                ]
    return render(
        request,
        "frontoffice/calculator.html",
        {
            "regions": Region.objects.order_by("code"),
            "region": region,
            "data": data,
            "errors": errors,
            "results": results,
            "statuses": [
                (name, StatusKind(kind).label) for name, kind in CALCULATOR_STATUSES.items()
            ],
        },
        status=400 if errors else 200,
    )

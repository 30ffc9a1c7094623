"""The portal's API for a logged-in citizen (the session of the portal): what the "my rights"
page shows, for apps and assistive clients. Only the citizen and whom they represent."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from frontoffice.selectors import assignments_of, case_explained, cases_of, offers_of
from frontoffice.services import NotYours, person_for
from measures.enums import DecisionOutcome
from measures.models import Case


def _case(case: Case) -> dict[str, Any]:
    return {
        "case": case.pk,
        "measure": {"code": case.measure.code, "name": case.measure.name},
        "status": case.status,
        "explanation": case_explained(case),
    }


RIGHTS = inline_serializer(
    "CitizenRights",
    {
        "person": serializers.IntegerField(),
        "offers": serializers.ListField(child=serializers.DictField()),
        "assignments": serializers.ListField(child=serializers.DictField()),
        "refused": serializers.ListField(child=serializers.DictField()),
    },
)


class MyRightsView(APIView):
    """What was found for the citizen (or a ward, `?person=`) and waits for their consent,
    what they receive, what was refused; each with its explanation in plain words."""

    @extend_schema(
        parameters=[OpenApiParameter("person", int, description="A ward's id (default: me).")],
        responses=RIGHTS,
    )
    def get(self, request: Request) -> Response:
        account = getattr(request.user, "citizen", None)
        if account is None:
            raise PermissionDenied("Only a citizen's login has rights to show.")
        person = account.person
        if request.query_params.get("person"):
            try:
                person = person_for(
                    account.person, request.query_params["person"], on=timezone.localdate()
                )
            except NotYours:
                raise Http404 from None
        refused = cases_of(person).filter(decision__outcome=DecisionOutcome.REFUSE)[:10]
        return Response(
            {
                "person": person.pk,
                "offers": [_case(case) for case in offers_of(person)],
                "assignments": [
                    {
                        "measure": {"code": a.measure.code, "name": a.measure.name},
                        "amount": None if a.amount is None else str(a.amount),
                        "active_from": a.active_from,
                        "active_to": a.active_to,
                        "status": a.status,
                        "case": a.decision.case_id,
                    }
                    for a in assignments_of(person)[:50]
                ],
                "refused": [_case(case) for case in refused],
            }
        )

from django.urls import path
from rest_framework.routers import DefaultRouter

from measures import apis, apis_cases, apis_contracts

router = DefaultRouter()
router.register("measures", apis.MeasureViewSet, basename="measure")
router.register("rule-versions", apis.RuleVersionViewSet, basename="rule-version")
router.register("entitlements", apis.EntitlementViewSet, basename="entitlement")
router.register("cases", apis_cases.CaseViewSet, basename="case")
router.register("decisions", apis_cases.DecisionViewSet, basename="decision")
router.register("applications", apis_cases.ApplicationViewSet, basename="application")
router.register("assignments", apis_cases.AssignmentViewSet, basename="assignment")
router.register(
    "social-contracts", apis_contracts.SocialContractViewSet, basename="social-contract"
)

urlpatterns = [
    path("facts/", apis.FactsView.as_view(), name="fact-list"),
    path("signing-key/", apis_cases.SigningKeyView.as_view(), name="signing-key"),
    path("rules/check/", apis.RuleCheckView.as_view(), name="rule-check"),
    path("calculator/", apis.CalculatorView.as_view(), name="calculator"),
    path(
        "persons/<int:person_id>/entitlements/",
        apis.PersonEntitlementsView.as_view(),
        name="person-entitlements",
    ),
    *router.urls,
]

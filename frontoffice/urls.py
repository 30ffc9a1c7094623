from django.urls import path
from django.views.generic import RedirectView

from frontoffice import auth, views

app_name = "frontoffice"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="frontoffice:rights"), name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("oidc/start/", auth.oidc_start, name="oidc_start"),
    path("oidc/callback/", auth.oidc_callback, name="oidc_callback"),
    path("my/", views.rights, name="rights"),
    path("my/act-as/", views.act_as, name="act_as"),
    path("my/offers/<int:case_id>/", views.offer, name="offer"),
    path("my/cases/", views.cases, name="cases"),
    path("my/cases/<int:case_id>/", views.case, name="case"),
    path("my/payments/", views.payments, name="payments"),
    path("my/details/", views.details, name="details"),
    path("my/inbox/", views.inbox, name="inbox"),
    path("my/certificates/", views.certificates, name="certificates"),
    path("my/certificates/<str:code>.pdf", views.certificate_pdf_view, name="certificate_pdf"),
    path("my/appeals/", views.appeals, name="appeals"),
    path("check/", views.certificate_check, name="check"),
    path("navigator/", views.navigator, name="navigator"),
    path("calculator/", views.calculator, name="calculator"),
]

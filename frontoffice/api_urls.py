from django.urls import path

from frontoffice import apis

urlpatterns = [path("my/rights/", apis.MyRightsView.as_view(), name="portal-my-rights")]

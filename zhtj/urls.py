"""Root URLs: each app's routes are included at the root so the public paths stay as documented."""

from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("captcha/", include("captcha.urls")),
    path("django-admin/", admin.site.urls),
    path("", include("members.urls")),
    path("", include("orgs.urls")),
    path("", include("approvals.urls")),
    path("", include("transfers.urls")),
    path("", include("imports.urls")),
    path("", include("notifications.urls")),
]

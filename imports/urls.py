"""URLs of the imports app (included at the site root)."""

from django.urls import path

from . import views

urlpatterns = [
    path("orgs/<int:pk>/import/", views.import_home, name="import_home"),
    path("orgs/<int:pk>/import/template.xlsx", views.import_template, name="import_template"),
    path("imports/<int:pk>/", views.import_job, name="import_job"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("imports/<int:pk>/failures.xlsx", views.import_failures, name="import_failures"),
    path("imports/<int:pk>/retry/", views.import_retry, name="import_retry"),
]

"""URLs of the approvals app (included at the site root)."""

from django.urls import path

from . import views

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/decide/", views.request_decide, name="request_decide"),
    path("requests/<int:pk>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path("my/requests/", views.my_requests, name="my_requests"),
    path("audit/", views.audit_log, name="audit_log"),
]

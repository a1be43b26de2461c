"""URLs of the transfers app (included at the site root)."""

from django.urls import path

from . import views

urlpatterns = [
    path("transfers/", views.transfer_list, name="transfer_list"),
    path("transfers/in/", views.transfer_in, name="transfer_in"),
    path("transfers/out/", views.transfer_out, name="transfer_out"),
    path("transfers/orgs/search/", views.org_search, name="transfer_org_search"),
    path("transfers/<int:pk>/", views.transfer_detail, name="transfer_detail"),
    path("transfers/<int:pk>/approve/", views.transfer_approve, name="transfer_approve"),
    path("transfers/<int:pk>/reject/", views.transfer_reject, name="transfer_reject"),
    path("transfers/<int:pk>/withdraw/", views.transfer_withdraw, name="transfer_withdraw"),
    path("transfers/<int:pk>/allocate/", views.transfer_allocate, name="transfer_allocate"),
]

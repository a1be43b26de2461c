"""URLs of the orgs app (included at the site root)."""

from django.urls import path

from . import code_views, views

urlpatterns = [
    path("orgs/", views.org_tree, name="org_tree"),
    path("orgs/<int:pk>/", views.org_detail, name="org_detail"),
    path("orgs/<int:pk>/children/", views.org_children, name="org_children"),
    path("orgs/<int:pk>/children/new/", views.org_create, name="org_create"),
    path("orgs/<int:pk>/people/add/", views.org_add_people, name="org_add_people"),
    path("orgs/<int:pk>/children/import/", views.org_bulk_create, name="org_bulk_create"),
    path("orgs/<int:pk>/children/import/template/", views.org_bulk_template, name="org_bulk_template"),
    path("orgs/<int:pk>/edit/", views.org_edit, name="org_edit"),
    path("orgs/<int:pk>/move/", views.org_move, name="org_move"),
    path("orgs/<int:pk>/delete/", views.org_delete, name="org_delete"),
    # Admin registration codes (orgs/code_views.py).
    path("orgs/<int:pk>/codes/", code_views.org_codes, name="org_codes"),
    path("orgs/<int:pk>/complete/", code_views.org_complete, name="org_complete"),
    path("register/admin/", code_views.register_admin, name="register_admin"),
    path("register/admin/orgs/", code_views.register_admin_orgs, name="register_admin_orgs"),
]

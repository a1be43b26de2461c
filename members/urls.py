"""URLs of the members app (included at the site root)."""

from django.urls import path

from . import account_views, admin_change_views
from . import views as member_views

urlpatterns: list = [
    # Accounts: login, passwords, acting org (the paths are part of the documented surface).
    path("login/", account_views.login_view, name="login"),
    path("logout/", account_views.logout_view, name="logout"),
    path("password/change/", account_views.password_change, name="password_change"),
    path("password/set/", account_views.password_set, name="password_set"),
    path("password/reset/", account_views.password_reset, name="password_reset"),
    path("org/choose/", account_views.choose_org, name="choose_org"),
    path("people/<int:pk>/reset-code/", account_views.reset_code_issue, name="reset_code_issue"),
    # Member and cadre records (members/views.py).
    path("orgs/<int:pk>/members/", member_views.member_list, name="member_list"),
    path("orgs/<int:pk>/members/new/", member_views.member_add, name="member_add"),
    path("orgs/<int:pk>/members/export.xlsx", member_views.member_export, name="member_export"),
    path("members/<int:pk>/", member_views.member_detail, name="member_detail"),
    path("members/<int:pk>/edit/", member_views.member_edit, name="member_edit"),
    path("members/<int:pk>/status/", member_views.member_set_status, name="member_set_status"),
    path("me/", member_views.my_record, name="my_record"),
    path("me/edit/", member_views.my_record_edit, name="my_record_edit"),
    path("orgs/<int:pk>/cadres/", member_views.cadre_list, name="cadre_list"),
    path("orgs/<int:pk>/cadres/new/", member_views.cadre_add, name="cadre_add"),
    path("orgs/<int:pk>/cadres/<int:cadre_pk>/remove/", member_views.cadre_remove, name="cadre_remove"),
    path("orgs/<int:pk>/admin/change/", admin_change_views.admin_change, name="admin_change"),
]

"""Django admin for the org tree: read-only views for operators.

Every change to the tree, its admins and its codes goes through orgs.services, orgs.codes and
orgs.admin_registration (tree lock, permissions, audit entries): use the pages or `manage.py create_org`.
This site only lists and shows.
"""

from django.contrib import admin

from zhtj.admin import ReadOnlyAdmin

from .models import Org, OrgAdmin, OrgType, RegistrationCode


@admin.register(OrgType)
class OrgTypeAdmin(ReadOnlyAdmin):
    list_display = ("name", "code", "category", "sort_order")
    ordering = ("sort_order", "id")


@admin.register(Org)
class OrgModelAdmin(ReadOnlyAdmin):
    list_display = ("code", "short_name", "type", "parent", "level", "updated_at")
    list_filter = ("type",)
    search_fields = ("code", "short_name", "full_name")
    list_select_related = ("type", "parent")
    ordering = ("tree_id", "lft")
    fields = ("code", "short_name", "full_name", "type", "parent", "contact_phone", "contact_email", "secretary",
              "secretary_is_deputy", "tree_id", "lft", "rght", "level", "created_at", "updated_at")


@admin.register(OrgAdmin)
class OrgAdminAdmin(ReadOnlyAdmin):
    list_display = ("org", "person", "assigned_at")
    list_select_related = ("org", "person")
    search_fields = ("org__code", "org__short_name", "person__name")


@admin.register(RegistrationCode)
class RegistrationCodeAdmin(ReadOnlyAdmin):
    list_display = ("org", "created_at", "expires_at", "used_at", "revoked_at")
    list_select_related = ("org",)
    exclude = ("code_hash",)

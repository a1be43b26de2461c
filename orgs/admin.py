"""Django admin for the org tree: a read-mostly view for operators.

Structural writes (create, move, delete) must take the tree lock, so they are not offered here: use the
pages or `manage.py create_org`. Info fields may be corrected; type, parent and code are fixed.
"""

from django.contrib import admin
from django.http import HttpRequest

from .models import Org, OrgAdmin, OrgType, RegistrationCode


@admin.register(OrgType)
class OrgTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "category", "sort_order")
    ordering = ("sort_order", "id")


@admin.register(Org)
class OrgModelAdmin(admin.ModelAdmin):
    list_display = ("code", "short_name", "type", "parent", "level", "updated_at")
    list_filter = ("type",)
    search_fields = ("code", "short_name", "full_name")
    list_select_related = ("type", "parent")
    ordering = ("tree_id", "lft")
    readonly_fields = ("code", "type", "parent", "secretary", "tree_id", "lft", "rght", "level", "created_at",
                       "updated_at")
    fields = ("code", "short_name", "full_name", "type", "parent", "contact_phone", "contact_email", "secretary",
              "secretary_is_deputy", "tree_id", "lft", "rght", "level", "created_at", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # creation goes through orgs.services under the tree lock

    def has_delete_permission(self, request: HttpRequest, obj: Org | None = None) -> bool:
        return False


@admin.register(OrgAdmin)
class OrgAdminAdmin(admin.ModelAdmin):
    list_display = ("org", "person", "assigned_at")
    list_select_related = ("org", "person")
    search_fields = ("org__code", "org__short_name", "person__name")
    raw_id_fields = ("org", "person", "assigned_by")


@admin.register(RegistrationCode)
class RegistrationCodeAdmin(admin.ModelAdmin):
    list_display = ("org", "created_at", "expires_at", "used_at", "revoked_at")
    list_select_related = ("org",)
    readonly_fields = ("org", "code_hash", "created_by", "created_at", "expires_at", "used_at", "used_by",
                       "revoked_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # codes are issued by orgs.codes, which shows the code once and keeps only its hash

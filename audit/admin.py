"""Django admin: a read-only view of the audit trail (nobody edits or deletes it here)."""

from django.contrib import admin

from zhtj.admin import ReadOnlyAdmin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "action", "actor", "acting_org", "org", "target_repr", "ip")
    list_filter = ("action",)
    search_fields = ("target_repr", "action")
    date_hierarchy = "at"
    list_select_related = ("actor", "acting_org", "org")

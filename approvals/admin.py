"""Django admin: read-only views of requests and the audit trail (nobody edits or deletes them here)."""

from django.contrib import admin

from zhtj.admin import ReadOnlyAdmin

from .models import ApprovalRequest, AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "action", "actor", "acting_org", "org", "target_repr", "ip")
    list_filter = ("action",)
    search_fields = ("target_repr", "action")
    date_hierarchy = "at"
    list_select_related = ("actor", "acting_org", "org")


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "target_repr", "status", "requested_by", "deciding_org", "created_at", "decided_at")
    list_filter = ("kind", "status")
    list_select_related = ("requested_by", "deciding_org")

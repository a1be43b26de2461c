"""Django admin: a read-only view of approval requests (nobody edits or deletes them here)."""

from django.contrib import admin

from zhtj.admin import ReadOnlyAdmin

from .models import ApprovalRequest


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "target_repr", "status", "requested_by", "deciding_org", "created_at", "decided_at")
    list_filter = ("kind", "status")
    list_select_related = ("requested_by", "deciding_org")

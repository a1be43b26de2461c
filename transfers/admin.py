"""Django admin for transfers: read-only, because every step must go through transfers.services."""

from django.contrib import admin

from zhtj.admin import ReadOnlyAdmin

from .models import Transfer


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ("id", "member", "direction", "source_branch", "target_org", "allocated_branch", "status",
                    "submitted_at")
    list_filter = ("status", "direction", "reason")
    search_fields = ("member__person__name", "source_branch__code", "target_org__code")
    list_select_related = ("member__person", "source_branch", "target_org", "allocated_branch")

"""Django admin for import jobs: read-only, because jobs are created, run and retried by imports.services."""

from django.contrib import admin

from zhtj.admin import ReadOnlyAdmin

from .models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "org", "kind", "file_name", "status", "rows_read", "rows_imported", "rows_failed",
                    "created_by", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("file_name", "org__code", "org__short_name")
    list_select_related = ("org", "created_by")
    exclude = ("failures",)  # failed rows carry names and ID numbers in full

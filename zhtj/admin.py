"""Shared Django admin base classes.

ReadOnlyAdmin is for models whose writes must go through their app's services (rules, permissions, audit):
the admin site may list and show them but never add, change or delete them.
"""

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    """A ModelAdmin that refuses add, change and delete for everyone, superusers included."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

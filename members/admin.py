"""Django admin: read-only views of people, member records and cadre posts.

Changes go through members.services (rules, permissions, audit), never through this site, so nothing here
adds, edits or deletes; ID numbers and phones are shown masked.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from zhtj.admin import ReadOnlyAdmin

from .models import Cadre, Member, Person


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ("name", "masked_id", "gender", "birth_date", "masked_phone_display", "is_active", "created_at")
    search_fields = ("name",)
    exclude = ("password",)

    @admin.display(description=_("ID number"))
    def masked_id(self, obj: Person) -> str:
        return obj.masked_id_number

    @admin.display(description=_("mobile phone"))
    def masked_phone_display(self, obj: Person) -> str:
        return obj.masked_phone


@admin.register(Member)
class MemberAdmin(ReadOnlyAdmin):
    list_display = ("person", "branch", "status", "political_status", "joined_on", "development_number")
    list_filter = ("status", "political_status")
    search_fields = ("person__name", "development_number")
    list_select_related = ("person", "branch")
    raw_id_fields = ("person", "branch")


@admin.register(Cadre)
class CadreAdmin(ReadOnlyAdmin):
    list_display = ("person", "org", "position", "nature", "since")
    list_filter = ("position", "nature")
    search_fields = ("person__name", "org__short_name")
    list_select_related = ("person", "org")
    raw_id_fields = ("person", "org")

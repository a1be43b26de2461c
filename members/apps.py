"""App config for people and accounts."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("People")

    def ready(self) -> None:
        # The personal-info request kind on the approvals engine (a registry, not a signal).
        from .services import register_personal_info_kind

        register_personal_info_kind()

"""App config for the approvals engine."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = _("Approvals")

    def ready(self) -> None:
        # A registry, not a signal: the kinds this app defines (org info, admin change) are added here;
        # other apps register theirs in their own ready().
        from .kinds import register_builtin_kinds

        register_builtin_kinds()

"""App config for relationship transfers."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransfersConfig(AppConfig):
    name = "transfers"
    verbose_name = _("Transfers")

    def ready(self) -> None:
        # A registry, not a signal: the approvals engine learns the transfers' kinds here.
        from .kinds import register_kinds, register_task_sources

        register_kinds()
        register_task_sources()

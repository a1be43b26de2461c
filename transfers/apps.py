"""App config for relationship transfers."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransfersConfig(AppConfig):
    name = "transfers"
    verbose_name = _("Transfers")

    def ready(self) -> None:
        # Registries, not signals: the approvals engine learns the transfers' kinds and inbox tasks, and the
        # people layer learns how to ask whether a member is in transfer and for their transfer history.
        from members import in_transfer

        from . import selectors
        from .kinds import register_kinds, register_task_sources

        register_kinds()
        register_task_sources()
        in_transfer.register_lookup(selectors.members_in_transfer_ids)
        in_transfer.register_history(selectors.member_transfer_history)

"""App config for people and accounts."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("People")

    def ready(self) -> None:
        # A registry, not a signal: the approvals engine learns this app's kinds (personal info, admin change).
        from .kinds import register_kinds

        register_kinds()
        # Personal data the audit log and the request lists mask (PIPL).
        from audit.personal_data import register_mask

        from .idnumber import mask
        from .rules import mask_email, mask_phone

        register_mask("phone", mask_phone)
        register_mask("id_number", mask)
        register_mask("email", mask_email)

"""App config for the approvals engine."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = _("Approvals")
    # The engine defines no kind: each app registers its own from its kinds.py in its ready()
    # (orgs: org info; members: personal info, admin change; transfers: transfers).

"""App config for the organization tree."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _install_db_rules(using: str = "default", **kwargs) -> None:
    from django.db import connections

    from zhtj import dbrules

    dbrules.install(connections[using])


class OrgsConfig(AppConfig):
    name = "orgs"
    verbose_name = _("Organizations")

    def ready(self) -> None:
        # Schema plumbing, not business logic: re-create the cross-table triggers after every migrate.
        post_migrate.connect(_install_db_rules, sender=self, dispatch_uid="zhtj_install_db_rules")
        # A registry, not a signal: the approvals engine learns this app's kind (org info).
        from .kinds import register_kinds

        register_kinds()

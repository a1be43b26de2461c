"""App config for Excel bulk import."""

from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete
from django.utils.translation import gettext_lazy as _


def delete_job_files(sender, instance, using=None, **kwargs) -> None:
    """A deleted job's upload and failure workbook leave the disk once the deletion commits.

    Storage hygiene, not a business rule, and a receiver because a job goes with its org by cascade (the org
    tree knows nothing of imports), from the Django admin, or from a queryset: every path sends post_delete.
    """
    files = [f for f in (instance.file, instance.failure_file) if f]
    if files:
        transaction.on_commit(lambda: [f.storage.delete(f.name) for f in files], using=using)


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = _("Imports")

    def ready(self) -> None:
        post_delete.connect(delete_job_files, sender="imports.ImportJob", dispatch_uid="imports.delete_job_files")

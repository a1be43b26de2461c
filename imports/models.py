"""Import jobs: one uploaded workbook imported into one org, with its progress, counts and failure workbook."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    MEMBER = "member", _("Members")
    CADRE = "cadre", _("Cadres")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Finished")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One upload. Rows are committed all together when the job succeeds; a failed job committed nothing."""

    org = models.ForeignKey("orgs.Org", on_delete=models.CASCADE, related_name="import_jobs",
                            verbose_name=_("organization"))
    kind = models.CharField(_("kind"), max_length=8, choices=ImportKind.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("uploaded by"))
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    # The uploader's client address (a web upload; None at the command line), for every audit entry of the job:
    # the job may run later on a worker, far from the request.
    uploader_ip = models.GenericIPAddressField(_("uploaded from"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    file_name = models.CharField(_("file name"), max_length=255)
    # The upload itself, kept only while the job may still need it (queued, running, or failed and retryable).
    file = models.FileField(upload_to="imports/uploads/", blank=True)
    file_size = models.PositiveBigIntegerField(_("file size"), default=0)
    file_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    background = models.BooleanField(_("in the background"), default=False)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_validated = models.PositiveIntegerField(_("rows validated"), default=0)
    rows_imported = models.PositiveIntegerField(_("rows imported"), default=0)
    rows_failed = models.PositiveIntegerField(_("rows failed"), default=0)
    # The first failures, shown on the result page; the failure workbook holds all of them.
    failures = models.JSONField(default=list, blank=True)
    failure_file = models.FileField(upload_to="imports/failures/", blank=True)
    error_message = models.TextField(_("error"), blank=True)
    # A file-level error (not a spreadsheet, a missing column...) is final; a crash may be retried.
    retryable = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The admin who last ran it again (and from where): a retry is audited as them, not as the uploader.
    retried_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("run again by"))
    retried_from = models.GenericIPAddressField(_("run again from"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        indexes = [models.Index(fields=["org", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ImportKind.values), name="importjob_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=ImportStatus.values), name="importjob_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def is_done(self) -> bool:
        return self.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)

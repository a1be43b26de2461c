"""A transfer of one member's league relationship from their branch to another org, and its state machine.

pending ─ approve ─▶ completed                       (target is a branch: the member moves at approval)
        └ approve ─▶ approved ─ allocate ─▶ completed (target is a committee/work committee/general branch)
        └ reject / withdraw / expire ─▶ rejected / withdrawn / expired (nothing else changes)

The decision itself lives in the approvals engine (one inbox for every request); this row keeps what only
transfers need: source and target, the allocated branch, and who did each step when.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    IN = "in", _("Transfer in")  # 办理转入: started by the receiving branch
    OUT = "out", _("Transfer out")  # 办理转出: started by the member's current branch


class Reason(models.TextChoices):
    # Stored in Chinese: it is the vocabulary every league form uses.
    STUDY = "升学", _("Further study")
    EMPLOYMENT = "就业", _("Employment")
    MILITARY = "参军", _("Joining the army")
    ABROAD = "出国", _("Going abroad")
    JOB_CHANGE = "工作调动", _("Job transfer")
    OTHER = "其他", _("Other")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Awaiting allocation")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


OPEN_STATUSES = (Status.PENDING, Status.APPROVED)


class TransferQuerySet(models.QuerySet["Transfer"]):
    def open(self) -> "TransferQuerySet":
        return self.filter(status__in=OPEN_STATUSES)


class Transfer(models.Model):
    """One transfer; at most one open (pending or awaiting allocation) per member, enforced by the DB."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="transfers", verbose_name=_("member")
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    source_branch = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, related_name="transfers_out", verbose_name=_("from branch")
    )
    target_org = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, related_name="transfers_in", verbose_name=_("to organization")
    )
    allocated_branch = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, null=True, blank=True, related_name="transfers_allocated",
        verbose_name=_("allocated branch"),
    )
    reason = models.CharField(_("reason"), max_length=8, choices=Reason.choices)
    reason_text = models.CharField(_("details"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    request = models.OneToOneField(
        "approvals.ApprovalRequest", on_delete=models.PROTECT, null=True, blank=True, related_name="transfer",
        verbose_name=_("approval request"),
    )

    submitted_at = models.DateTimeField(_("submitted at"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("submitted by")
    )
    submitted_for = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, related_name="+", verbose_name=_("submitted for")
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("decided by"),
    )
    decision_note = models.TextField(_("decision note"), blank=True)
    allocated_at = models.DateTimeField(_("allocated at"), null=True, blank=True)
    allocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("allocated by"),
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("closed by"),
    )

    objects = TransferQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        indexes = [
            models.Index(fields=["source_branch", "-submitted_at"]),
            models.Index(fields=["target_org", "-submitted_at"]),
            models.Index(fields=["status", "submitted_at"]),
        ]
        constraints = [
            # The rule that keeps a member from being promised to two places at once.
            models.UniqueConstraint(
                fields=["member"], condition=Q(status__in=["pending", "approved"]), name="one_open_transfer_per_member"
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="transfer_status_valid"),
            models.CheckConstraint(condition=Q(direction__in=Direction.values), name="transfer_direction_valid"),
            models.CheckConstraint(condition=Q(reason__in=Reason.values), name="transfer_reason_valid"),
            models.CheckConstraint(condition=~Q(reason="其他") | ~Q(reason_text=""), name="transfer_other_reason_text"),
            models.CheckConstraint(condition=~Q(source_branch=models.F("target_org")), name="transfer_not_to_same_org"),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_at__isnull=False), name="transfer_completed_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.source_branch} → {self.target_org}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def needs_allocation(self) -> bool:
        return self.status == Status.APPROVED

    @property
    def reason_display(self) -> str:
        label = str(self.get_reason_display())
        return f"{label}：{self.reason_text}" if self.reason_text else label

    @property
    def destination(self):
        """The branch the member ends in (or will end in), once known."""
        return self.allocated_branch or (self.target_org if self.target_org.is_branch else None)

"""Approval requests: one row per proposed change and its decision."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .kinds import KINDS


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


class ApprovalRequest(models.Model):
    """A proposed change waiting for (or having received) a decision by the admin of one org.

    Written only by approvals.services; what a kind means and how it applies lives in approvals.kinds.
    """

    kind = models.CharField(_("kind"), max_length=32, db_index=True)
    # The object the request changes: its model label (as in the audit trail) and primary key.
    target_type = models.CharField(max_length=64)
    target_id = models.BigIntegerField()
    target_repr = models.CharField(_("object"), max_length=200, blank=True)
    # The org the object belongs to (for an org: itself; for a member: their branch), so audit entries and
    # detail pages can be scoped to subtrees. Null only when a kind cannot say.
    org = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("organization"),
    )
    # {field: [old, new]} with JSON values (dates as ISO strings, foreign keys as primary keys).
    changes = models.JSONField(_("changes"), default=dict, encoder=DjangoJSONEncoder)
    # Anything else a kind needs (transfers keep their target and allocation data here).
    payload = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    reason = models.TextField(_("reason for the request"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approval_requests",
        verbose_name=_("requested by"),
    )
    # The org the requester acted for; null when a member without an admin role asked for themselves.
    requested_for_org = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("requested for"),
    )
    deciding_org = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, related_name="requests_to_decide",
        verbose_name=_("deciding organization"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)
    created_at = models.DateTimeField(_("submitted at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        indexes = [
            models.Index(fields=["deciding_org", "status", "-created_at"]),
            models.Index(fields=["requested_by", "-created_at"]),
            models.Index(fields=["status", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RequestStatus.values), name="request_status_valid"),
            # One pending request per object and kind; decided ones are history and may repeat.
            models.UniqueConstraint(
                fields=["kind", "target_type", "target_id"], condition=Q(status="pending"),
                name="one_pending_request_per_object_and_kind",
            ),
            # A pending request carries no decision; a decided one says when.
            models.CheckConstraint(
                condition=(
                    Q(status="pending", decided_at__isnull=True) | (~Q(status="pending") & Q(decided_at__isnull=False))
                ),
                name="request_decided_at_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.target_repr}"

    @property
    def is_pending(self) -> bool:
        return self.status == RequestStatus.PENDING

    @property
    def kind_obj(self):
        return KINDS.get(self.kind)

    @property
    def kind_label(self):
        kind = self.kind_obj
        return kind.label if kind is not None else self.kind

    def load_target(self, *, lock: bool = False):
        """The object the request changes (locked when asked), or None when it no longer exists."""
        kind = self.kind_obj
        if kind is None:
            return None
        qs = kind.model._default_manager.all()
        if lock:
            qs = qs.select_for_update()
        return qs.filter(pk=self.target_id).first()

"""One in-app message: to a person, or to the admin role of an org (whoever acts for it reads it)."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class MessageKind(models.TextChoices):
    REQUEST_WAITING = "request_waiting", _("Request waiting for your decision")
    REQUEST_DECIDED = "request_decided", _("Request decided")
    ALLOCATION_WAITING = "allocation_waiting", _("Branch allocation waiting")
    TRANSFER = "transfer", _("Transfer")
    IMPORT_FINISHED = "import_finished", _("Import finished")
    CODE_USED = "code_used", _("Registration code used")
    PASSWORD = "password", _("Account security")


class Message(models.Model):
    """Written by the service that makes the event, in its transaction; only the read state changes later.

    An org message is resolved at read time (whoever acts for the org sees it), so an admin change hands
    the org's messages to the new admin; a personal message follows the person whatever org they act for.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("recipient"),
    )
    org = models.ForeignKey(
        "orgs.Org", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("organization"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=MessageKind.choices)
    # The English source sentence (translated when shown, so each reader sees their own language) and the
    # values it names.
    text = models.CharField(max_length=300)
    params = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    # A path inside the site, set by the service (never taken from a request).
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("read by"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="message_recipient_recent"),
            models.Index(fields=["org", "-created_at"], name="message_org_recent"),
            # The header's unread count reads only these.
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="message_recipient_unread"),
            models.Index(fields=["org"], condition=Q(read_at__isnull=True), name="message_org_unread"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient__isnull=False, org__isnull=True) | Q(recipient__isnull=True, org__isnull=False),
                name="message_one_addressee",
            ),
            models.CheckConstraint(condition=Q(kind__in=MessageKind.values), name="message_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.rendered

    @property
    def is_unread(self) -> bool:
        return self.read_at is None

    @property
    def rendered(self) -> str:
        """The sentence in the reader's language with its values filled in."""
        text = gettext(self.text)
        try:
            return text % (self.params or {})
        except (KeyError, TypeError, ValueError):
            return text

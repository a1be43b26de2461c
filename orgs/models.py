"""Organizations, their types, their admin assignments and admin registration codes."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from mptt.models import MPTTModel, TreeForeignKey


class Category(models.TextChoices):
    """What an org type behaves as; containment rules are stated in these terms."""

    COMMITTEE = "committee", _("Committee")
    WORK_COMMITTEE = "work_committee", _("Work committee")
    GENERAL_BRANCH = "general_branch", _("General branch")
    BRANCH = "branch", _("Branch")


def may_contain(parent: str, child: str) -> bool:
    """A branch is a leaf; a general branch holds only branches; committees hold anything."""
    if parent == Category.BRANCH:
        return False
    if parent == Category.GENERAL_BRANCH:
        return child == Category.BRANCH
    return True


class OrgType(models.Model):
    """A type table that can grow (e.g. graduating-class branch) while the category fixes the rules."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=32, unique=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("organization type")
        verbose_name_plural = _("organization types")
        constraints = [
            models.CheckConstraint(condition=Q(category__in=Category.values), name="orgtype_category_valid"),
        ]

    def __str__(self) -> str:
        return str(self.name)


class Org(MPTTModel):
    """One league organization. Structural writes go through orgs.services, which lock the tree."""

    code = models.CharField(_("organization code"), max_length=32, unique=True)
    short_name = models.CharField(_("short name"), max_length=64)
    full_name = models.CharField(_("full name"), max_length=128)
    type = models.ForeignKey(OrgType, on_delete=models.PROTECT, related_name="orgs", verbose_name=_("type"))
    parent = TreeForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    secretary = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("secretary"),
    )
    secretary_is_deputy = models.BooleanField(
        _("deputy recorded as secretary"), default=False,
        help_text=_("Set when the secretary's identity could not be verified and a deputy stands in."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class MPTTMeta:
        order_insertion_by = ["code"]

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        # Subtree queries (member counts per subtree, descendants) are ranges of lft within one tree.
        indexes = [models.Index(fields=["tree_id", "lft", "rght"], name="org_tree_range")]
        constraints = [
            models.CheckConstraint(condition=~Q(code=""), name="org_code_not_empty"),
            models.CheckConstraint(condition=~Q(short_name=""), name="org_short_name_not_empty"),
            # Two subordinates of one org with the same short name could not be told apart in lists.
            models.UniqueConstraint(fields=["parent", "short_name"], name="org_short_name_unique_among_siblings"),
        ]

    def __str__(self) -> str:
        return self.short_name

    @property
    def category(self) -> str:
        return self.type.category

    @property
    def is_branch(self) -> bool:
        return self.type.category == Category.BRANCH

    def contains(self, other: "Org") -> bool:
        """True when other is this org or below it (no query: MPTT fields)."""
        return self.tree_id == other.tree_id and self.lft <= other.lft and other.rght <= self.rght


class OrgAdmin(models.Model):
    """The admin account of an org: at most one per org (one person may administer several orgs)."""

    org = models.OneToOneField(Org, on_delete=models.CASCADE, related_name="admin_assignment")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="admin_roles")
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("organization admin")
        verbose_name_plural = _("organization admins")

    def __str__(self) -> str:
        return f"{self.org} – {self.person}"


class RegistrationCode(models.Model):
    """A one-time admin registration code for one org; only its hash is kept once shown."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="registration_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Generating a new code revokes the old: at most one live code per org.
            models.UniqueConstraint(
                fields=["org"], condition=Q(used_at__isnull=True, revoked_at__isnull=True),
                name="one_live_registration_code_per_org",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="code_expires_after_creation"
            ),
        ]


class SubtreeCount(models.Model):
    """Active members in an org's whole subtree, kept current by database triggers (zhtj/dbrules.py) in the
    transaction of every member insert, status or branch change and delete; org moves shift it in
    orgs.services. A table of its own, not a column of Org: member writes lock these narrow rows, never the
    org rows that tree writes lock, and their updates leave no dead versions of the wide, many-indexed org
    rows. orgs.counts recounts and verifies it (check_org_tree)."""

    org = models.OneToOneField(Org, on_delete=models.CASCADE, primary_key=True, related_name="subtree_count")
    active_members = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(active_members__gte=0), name="subtree_count_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.org_id}: {self.active_members}"

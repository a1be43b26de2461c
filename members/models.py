"""The person (also the login account, keyed by resident ID number), member records and cadre posts."""

import datetime as dt

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import idnumber
from .choices import ETHNICITY_CHOICES, CadreNature, Education, MemberStatus, PoliticalStatus, Position
from .rules import mask_phone


class PersonManager(BaseUserManager["Person"]):
    def create_user(self, id_number: str, name: str = "", password: str | None = None, **extra) -> "Person":
        person = self.model(name=name, **extra)
        person.set_id_number(id_number)
        if password:
            person.set_password(password)
            person.password_set_at = timezone.now()
        else:
            # Never hashed per person: the initial password is checked against the ID number itself.
            person.set_unusable_password()
        person.save(using=self._db)
        return person

    def create_superuser(self, id_number: str, name: str = "", password: str | None = None, **extra) -> "Person":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(id_number, name, password, **extra)


class Person(AbstractBaseUser, PermissionsMixin):
    """A person known to the league, and their account. Gender and birth date derive from the ID number."""

    id_number = models.CharField(_("ID number"), max_length=18, unique=True, validators=[idnumber.validate_id_number])
    name = models.CharField(_("name"), max_length=64)
    gender = models.CharField(_("gender"), max_length=1, choices=[("M", _("Male")), ("F", _("Female"))])
    birth_date = models.DateField(_("birth date"))
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    # None: the person has never set a password and may only activate with the initial one.
    password_set_at = models.DateTimeField(_("password set at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PersonManager()

    USERNAME_FIELD = "id_number"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        # The member list's sorts walk these at any depth (members.selectors.SORTS); the id makes each key unique.
        # Search indexes that only PostgreSQL can build (trigram, reversed ID) are in migration 0005.
        indexes = [
            models.Index(fields=["name", "id"], name="person_name_sort"),
            models.Index(fields=["birth_date", "id"], name="person_birth_sort"),
            models.Index(fields=["phone"], name="person_phone"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(gender__in=["M", "F"]), name="person_gender_valid"),
        ]

    def __str__(self) -> str:
        return self.name or self.masked_id_number

    def set_id_number(self, raw: str) -> None:
        info = idnumber.parse(raw)
        self.id_number = info.number
        self.birth_date = info.birth_date
        self.gender = info.gender

    @property
    def masked_id_number(self) -> str:
        return idnumber.mask(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def needs_password(self) -> bool:
        return self.password_set_at is None

    def age_on(self, day: dt.date) -> int:
        return idnumber.age_on(self.birth_date, day)

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name


class Member(models.Model):
    """A person's league membership: one record per person, always in exactly one branch."""

    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="membership")
    # No index of its own: the two composite indexes below lead with branch and serve every branch lookup; a third
    # index would only slow bulk imports (one more index to maintain per row).
    branch = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="members", verbose_name=_("branch"),
                               db_index=False)
    status = models.CharField(_("status"), max_length=16, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    ethnicity = models.CharField(_("ethnicity"), max_length=16, choices=ETHNICITY_CHOICES, default="汉族")
    political_status = models.CharField(
        _("political status"), max_length=16, choices=PoliticalStatus.choices, default=PoliticalStatus.LEAGUE_MEMBER
    )
    joined_on = models.DateField(_("joined the league"), help_text=_("Year and month; the day is always 1."))
    development_number = models.CharField(_("development number"), max_length=12, null=True, blank=True, unique=True)
    education = models.CharField(_("education"), max_length=16, choices=Education.choices, blank=True)
    occupation = models.CharField(_("occupation"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        # The member list filters by branch and status and sorts by join date (see members.selectors).
        indexes = [models.Index(fields=["branch", "status"]), models.Index(fields=["branch", "joined_on"]),
                   # Join-date order over a whole subtree (a committee's list), walked from either end.
                   models.Index(fields=["joined_on", "id"], name="member_joined_sort")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=MemberStatus.values), name="member_status_valid"),
            models.CheckConstraint(condition=~Q(development_number=""), name="member_devno_null_not_empty"),
        ]

    def __str__(self) -> str:
        return str(self.person)


class Cadre(models.Model):
    """A cadre post: a person holding a position in an org of any level."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cadre_posts")
    org = models.ForeignKey("orgs.Org", on_delete=models.CASCADE, related_name="cadres", verbose_name=_("organization"))
    position = models.CharField(_("position"), max_length=16, choices=Position.choices)
    since = models.DateField(_("in post since"))
    nature = models.CharField(_("nature"), max_length=8, choices=CadreNature.choices, default=CadreNature.PART_TIME)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("cadre")
        verbose_name_plural = _("cadres")
        constraints = [
            models.UniqueConstraint(fields=["org"], condition=Q(position="书记"), name="one_secretary_per_org"),
            models.UniqueConstraint(fields=["person", "org", "position"], name="cadre_post_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.org} {self.position} {self.person}"


class ResetCode(models.Model):
    """A one-time password reset code an admin issued for a person; only its hash is kept."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="reset_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person"], condition=Q(used_at__isnull=True), name="one_live_reset_code"),
        ]


def initial_password_for(person: Person) -> str:
    return person.id_number[-8:]


def initial_password_expired(person: Person, now: dt.datetime | None = None) -> bool:
    days = settings.ZHTJ_INITIAL_PASSWORD_DAYS
    return bool(days) and (now or timezone.now()) > person.created_at + dt.timedelta(days=days)

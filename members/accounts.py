"""Account services: logging in and out, setting, changing and resetting passwords, one-time reset codes,
and choosing the org a person acts for.

Every refusal raises AccountError (a translated, user-facing message, optionally tied to a form field);
every decision is audited. Login and reset-code guesses are throttled per account and per client address
(members.throttle), and both treat an unknown ID number exactly like a known one.
"""

import datetime as dt
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import authenticate, login, logout, password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from audit.services import record
from notifications.services import MessageKind, notify
from orgs.models import Org
from orgs.permissions import Actor, administered_orgs, may_reset_password, person_orgs
from orgs.tree import ancestor_paths
from zhtj.errors import UserError
from zhtj.secret_codes import hash_code

from . import idnumber, throttle
from .middleware import ACTING_ORG_SESSION_KEY, client_ip
from .models import Person, ResetCode

LOGIN_SCOPE = "login"
RESET_SCOPE = "reset"
PASSWORD_CHANGE_SCOPE = "password_change"

GENERIC_LOGIN_FAILURE = gettext_lazy("The ID number or password is incorrect.")
# The alphabet of reset codes: no 0/O, 1/I/L, so a code read aloud or copied by hand survives.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # 31**12 ≈ 2**59: unguessable within any throttle


class AccountError(UserError):
    """A refusal with the message(s) to show; field names the form field it belongs to (None: the form)."""

    def __init__(self, messages: str | Iterable[str], *, field: str | None = None) -> None:
        self.messages = [str(messages)] if isinstance(messages, str) or not isinstance(messages, Iterable) else [
            str(m) for m in messages
        ]
        super().__init__("; ".join(self.messages), field=field)


ACCOUNT_LOCKED = gettext_lazy(
    "Too many failed attempts with this ID number: it is temporarily locked. Try again in %(minutes)d minutes."
)
ADDRESS_LOCKED = gettext_lazy(
    "Too many failed attempts from your network address: it is temporarily locked. Try again in %(minutes)d "
    "minutes."
)


def _locked_message(lock: throttle.Lock) -> str:
    template = ACCOUNT_LOCKED if lock.kind == throttle.ACCOUNT else ADDRESS_LOCKED
    return str(template) % {"minutes": lock.minutes_left()}


def _home_org(person: Person) -> Org | None:
    """The org an account entry belongs to in the audit trail: the person's branch or an org they hold."""
    branch = Org.objects.filter(members__person=person).first()
    if branch is not None:
        return branch
    orgs = person_orgs(person)  # cadre posts and admin roles, in tree order
    return orgs[0] if orgs else None


# --- logging in -------------------------------------------------------------------------------------------


def log_in(*, request: HttpRequest, id_number: str, password: str) -> Person:
    """Check the credentials under the throttle and log the person in (a fresh session key); or refuse.

    The refusal is the same for an unknown, malformed or real ID number with a wrong password.
    """
    ip = client_ip(request)
    account = idnumber.normalize(id_number)
    masked = idnumber.mask(account)
    # Counted before the slow check, so concurrent guesses cannot all be checked before the lock starts.
    attempt = throttle.attempt_begin(LOGIN_SCOPE, account=account, ip=ip)
    if attempt.lock is not None:
        # The password is not even checked while locked: a lock must stop guessing, not slow it.
        record(action="login.refused_locked", ip=ip, after={"id_number": masked, "lock": attempt.lock.kind})
        raise AccountError(_locked_message(attempt.lock))
    person = authenticate(request, id_number=account, password=password)
    if person is None:
        target = Person.objects.filter(id_number=account).first()
        lock = throttle.attempt_failed(attempt)
        with transaction.atomic():
            record(action="login.failed", target=target, org=target and _home_org(target), ip=ip,
                   after={"id_number": masked})
            if lock is not None:
                record(action="login.locked", target=target, org=target and _home_org(target), ip=ip,
                       after={"id_number": masked, "lock": lock.kind,
                              "minutes": settings.ZHTJ_LOGIN_LOCK_MINUTES})
        raise AccountError(_locked_message(lock) if lock is not None else str(GENERIC_LOGIN_FAILURE))
    throttle.attempt_succeeded(attempt)
    login(request, person)  # cycles the session key: a session fixed before login is worthless after it
    record(action="login.succeeded", actor=person, target=person, ip=ip,
           after={"initial_password": person.needs_password})
    return person


def log_out(*, request: HttpRequest) -> None:
    """End the session (its data is flushed server-side, the cookie becomes worthless)."""
    person = request.user if request.user.is_authenticated else None
    if person is not None:
        record(action="logout", actor=person, target=person, ip=client_ip(request))
    logout(request)


def safe_next(request: HttpRequest, candidate: str | None) -> str | None:
    """The ?next= target if it stays on this site, else None."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def landing_url(request: HttpRequest, person: Person, next_url: str | None = None) -> str:
    """Where a person goes after login or activation, choosing the acting org when there is no choice.

    One admin role: act for it at once. Several: the choose-org page. None: a plain member, home.
    """
    orgs = list(administered_orgs(person)[:2])
    if len(orgs) == 1:
        request.session[ACTING_ORG_SESSION_KEY] = orgs[0].pk
    if person.needs_password:
        return reverse("password_set")
    if len(orgs) > 1 and request.session.get(ACTING_ORG_SESSION_KEY) is None:
        url = reverse("choose_org")
        return f"{url}?{urlencode({'next': next_url})}" if next_url else url
    return next_url or reverse("home")


# --- acting org -----------------------------------------------------------------------------------------


def org_choices(person: Person) -> list[tuple[Org, list[Org]]]:
    """Each org the person administers with its ancestors (root first), in tree order; two queries."""
    orgs = list(administered_orgs(person))
    if not orgs:
        return []
    paths = ancestor_paths(orgs, fields=("short_name", "level"))
    return [(org, paths[org.pk]) for org in orgs]


def choose_acting_org(*, request: HttpRequest, org_id: object) -> Org:
    """Act for org_id from now on, if the person administers it; 404 otherwise (nothing changes)."""
    try:
        pk = int(org_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Http404 from None
    org = administered_orgs(request.user).filter(pk=pk).first()
    if org is None:
        raise Http404
    request.session[ACTING_ORG_SESSION_KEY] = org.pk
    return org


# --- passwords ------------------------------------------------------------------------------------------


def _validate_new_password(person: Person, new_password: str) -> None:
    try:
        password_validation.validate_password(new_password, user=person)
    except ValidationError as exc:
        raise AccountError(exc.messages, field="new_password1") from None


def _store_password(person: Person, new_password: str, *, action: str, actor: object, ip: str | None) -> None:
    """Hash and save the new password; the change of hash ends every other session of the person."""
    first_time = person.needs_password
    person.set_password(new_password)
    person.password_set_at = timezone.now()
    person.save(update_fields=["password", "password_set_at", "updated_at"])
    record(action=action, actor=actor, target=person, org=_home_org(person), ip=ip,
           after={"first_password": first_time})


def set_initial_password(*, person: Person, new_password: str, ip: str | None = None) -> Person:
    """The activation step: a person who logged in with the initial password sets a real one."""
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        if not locked.needs_password:
            raise AccountError(_("Your password is already set; use the change password page."))
        _validate_new_password(locked, new_password)
        _store_password(locked, new_password, action="password.set", actor=locked, ip=ip)
    person.refresh_from_db()
    return person


def change_password(*, person: Person, old_password: str, new_password: str, ip: str | None = None) -> Person:
    """Change a real password after checking the old one (guesses throttled like logins)."""
    account = person.id_number
    lock = throttle.current_lock(PASSWORD_CHANGE_SCOPE, account=account, ip=None)
    if lock is not None:
        raise AccountError(_locked_message(lock), field="old_password")
    if person.needs_password or not person.check_password(old_password):
        lock = throttle.register_failure(PASSWORD_CHANGE_SCOPE, account=account, ip=None)
        record(action="password.change_failed", actor=person, target=person, ip=ip)
        raise AccountError(
            _locked_message(lock) if lock else _("Your current password is incorrect."), field="old_password"
        )
    throttle.register_success(PASSWORD_CHANGE_SCOPE, account=account)
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        _validate_new_password(locked, new_password)
        _store_password(locked, new_password, action="password.changed", actor=locked, ip=ip)
    person.refresh_from_db()
    return person


# --- reset codes ----------------------------------------------------------------------------------------


def normalize_code(raw: str) -> str:
    """Codes are read off paper: case, spaces and dashes do not matter."""
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def reset_code_issue(*, actor: Actor, person: Person) -> str:
    """Issue a one-time reset code for person, replacing any live one; return it (shown once, never stored).

    Only an admin who controls the person (orgs.permissions.controls_person) and is their org's admin or its
    direct superior admin may (PermissionDenied otherwise).
    """
    if not may_reset_password(actor, person):
        raise PermissionDenied
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    now = timezone.now()
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        # One live code per person: the new one replaces the old (which stops working at once).
        replaced = ResetCode.objects.filter(person=locked, used_at__isnull=True).delete()[0]
        ResetCode.objects.create(
            person=locked, code_hash=hash_code(normalize_code(code)), created_by=actor.person, created_at=now,
            expires_at=now + dt.timedelta(hours=settings.ZHTJ_RESET_CODE_HOURS),
        )
        record(action="reset_code.issued", actor=actor, target=locked, org=_home_org(locked),
               after={"hours": settings.ZHTJ_RESET_CODE_HOURS, "replaced": replaced})
        notify(recipient=locked, kind=MessageKind.PASSWORD, link=reverse("password_change"), text=gettext_noop(
            "%(who)s of %(org)s issued a password reset code for your account."
        ), params={"who": actor.person.name, "org": actor.org.short_name if actor.org else ""})
    return format_code(code)


def reset_code_issue_by_operator(*, id_number: str) -> tuple[str, dt.datetime]:
    """An operator's reset code (manage.py issue_reset_code) for a person nobody in the tree may control, such
    as a top-level org's admin: returns the code (shown once) and its expiry. Audited as done by the operator.
    Raises AccountError for a malformed or unknown ID number."""
    try:
        number = idnumber.parse(id_number).number
    except ValidationError as exc:
        raise AccountError(exc.messages) from None
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    now = timezone.now()
    expires = now + dt.timedelta(hours=settings.ZHTJ_RESET_CODE_HOURS)
    with transaction.atomic():
        locked = Person.objects.select_for_update().filter(id_number=number).first()
        if locked is None:
            raise AccountError(_("No person has this ID number."))
        replaced = ResetCode.objects.filter(person=locked, used_at__isnull=True).delete()[0]
        ResetCode.objects.create(person=locked, code_hash=hash_code(code), created_by=None, created_at=now,
                                 expires_at=expires)
        record(action="reset_code.issued", target=locked, org=_home_org(locked), reason="manage.py issue_reset_code",
               after={"hours": settings.ZHTJ_RESET_CODE_HOURS, "replaced": replaced, "by": "operator"})
    return format_code(code), expires


def reset_password_with_code(*, id_number: str, code: str, new_password: str, ip: str | None = None) -> Person:
    """Set a new password with a reset code: the code is consumed atomically (one use, ever)."""
    account = idnumber.normalize(id_number)
    lock = throttle.current_lock(RESET_SCOPE, account=account, ip=ip)
    if lock is not None:
        raise AccountError(_locked_message(lock))
    now = timezone.now()
    entry = (
        ResetCode.objects.select_related("person")
        .filter(code_hash=hash_code(normalize_code(code)), person__id_number=account).first()
        if normalize_code(code)
        else None
    )
    if entry is None:
        lock = throttle.register_failure(RESET_SCOPE, account=account, ip=ip)
        record(action="reset_code.failed", ip=ip, after={"id_number": idnumber.mask(account)})
        raise AccountError(
            _locked_message(lock) if lock else _(
                "The ID number or reset code is incorrect. Check both, or ask your admin for a new code."
            )
        )
    # The right code: its state may be named without helping a guesser.
    if entry.used_at is not None:
        raise AccountError(_("This reset code has already been used. Ask your admin for a new one."), field="code")
    if entry.expires_at <= now:
        raise AccountError(_("This reset code has expired. Ask your admin for a new one."), field="code")
    person = entry.person
    _validate_new_password(person, new_password)
    with transaction.atomic():
        # The conditional UPDATE is the one-time guarantee: of two concurrent uses only one changes a row.
        consumed = ResetCode.objects.filter(pk=entry.pk, used_at__isnull=True, expires_at__gt=now).update(used_at=now)
        if consumed != 1:
            raise AccountError(
                _("This reset code has already been used. Ask your admin for a new one."), field="code"
            )
        locked = Person.objects.select_for_update().get(pk=person.pk)
        _store_password(locked, new_password, action="password.reset", actor=locked, ip=ip)
        record(action="reset_code.used", actor=locked, target=locked, org=_home_org(locked), ip=ip)
        notify(recipient=locked, kind=MessageKind.PASSWORD, link=reverse("password_change"), text=gettext_noop(
            "Your password was reset with a reset code. If you did not do this, tell your organization's admin"
            " at once."
        ))
    throttle.register_success(RESET_SCOPE, account=account)
    return locked

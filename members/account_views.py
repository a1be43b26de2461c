"""Account pages: login/logout, the forced set-password step, change and reset password, reset codes for
admins, and choosing the acting org. Thin: parse the form, call one service from members.accounts, render."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from orgs.permissions import may_reset_password, may_see_person

from . import accounts
from .account_forms import LoginForm, NewPasswordForm, PasswordChangeForm, PasswordResetForm
from .middleware import client_ip
from .models import Person


def _register_admin_url() -> str:
    # Admin registration is built in the orgs area; fall back to its documented path until it exists.
    try:
        return reverse("register_admin")
    except NoReverseMatch:
        return "/register/admin/"


def _apply_error(form, error: accounts.AccountError) -> None:
    field = error.field if error.field in form.fields else None
    for message in error.messages:
        form.add_error(field, message)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = accounts.safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated and request.method == "GET":
        return redirect(accounts.landing_url(request, request.user, next_url))
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            person = accounts.log_in(
                request=request, id_number=form.cleaned_data["id_number"], password=form.cleaned_data["password"]
            )
        except accounts.AccountError as exc:
            _apply_error(form, exc)
        else:
            return redirect(accounts.landing_url(request, person, next_url))
    return render(request, "accounts/login.html", {
        "form": form,
        "next": next_url or "",
        "register_admin_url": _register_admin_url(),
        "initial_password_days": settings.ZHTJ_INITIAL_PASSWORD_DAYS,
    })


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    accounts.log_out(request=request)
    messages.info(request, _("You have logged out."))
    return redirect("login")


@sensitive_post_parameters()
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def password_set(request: HttpRequest) -> HttpResponse:
    """The activation step after logging in with the initial password; nothing else is reachable before it."""
    if not request.user.needs_password:
        return redirect("password_change")
    form = NewPasswordForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            person = accounts.set_initial_password(
                person=request.user, new_password=form.cleaned_data["new_password1"], ip=client_ip(request)
            )
        except accounts.AccountError as exc:
            _apply_error(form, exc)
        else:
            update_session_auth_hash(request, person)
            messages.success(request, _("Your password is set. Use it from now on."))
            return redirect(accounts.landing_url(request, person))
    return render(request, "accounts/password_set.html", {"form": form})


@sensitive_post_parameters()
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            person = accounts.change_password(
                person=request.user, old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"], ip=client_ip(request),
            )
        except accounts.AccountError as exc:
            _apply_error(form, exc)
        else:
            # The new hash ends every other session of this person; this one is kept.
            update_session_auth_hash(request, person)
            messages.success(request, _("Your password has been changed. Other sessions have been logged out."))
            return redirect("home")
    return render(request, "accounts/password_change.html", {"form": form})


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    form = PasswordResetForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.reset_password_with_code(
                id_number=form.cleaned_data["id_number"], code=form.cleaned_data["code"],
                new_password=form.cleaned_data["new_password1"], ip=client_ip(request),
            )
        except accounts.AccountError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, _("Your new password is set. Log in with it."))
            return redirect("login")
    return render(request, "accounts/password_reset.html", {"form": form, "hours": settings.ZHTJ_RESET_CODE_HOURS})


def _person_for(actor, pk: int) -> Person:
    """The person if the actor may see them (404 otherwise, so strangers learn nothing)."""
    person = Person.objects.filter(pk=pk).first()
    if person is None or not may_see_person(actor, person):
        raise Http404
    return person


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def reset_code_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST issues a code and shows it this once."""
    person = _person_for(request.actor, pk)
    if not may_reset_password(request.actor, person):
        raise PermissionDenied
    code = None
    if request.method == "POST":
        code = accounts.reset_code_issue(actor=request.actor, person=person)
    # never_cache marks the page no-store: the code must not linger in any cache.
    return render(request, "accounts/reset_code.html", {
        "person": person, "code": code, "hours": settings.ZHTJ_RESET_CODE_HOURS,
    })


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def choose_org(request: HttpRequest) -> HttpResponse:
    next_url = accounts.safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "POST":
        org = accounts.choose_acting_org(request=request, org_id=request.POST.get("org"))
        messages.success(request, _("You are now acting for %(org)s.") % {"org": org.short_name})
        return redirect(next_url or "home")
    choices = accounts.org_choices(request.user)
    if not choices:
        return redirect("home")
    if len(choices) == 1 and request.actor.org is None:
        # One admin role (e.g. granted after this login): nothing to choose.
        accounts.choose_acting_org(request=request, org_id=choices[0][0].pk)
        return redirect(next_url or "home")
    return render(request, "accounts/choose_org.html", {"choices": choices, "next": next_url or ""})

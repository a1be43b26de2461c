"""The landing page (admins go to the org they act for, members to their own record), the CSRF failure page
and /healthz."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from orgs.permissions import administered_orgs

from . import health
from .home import member_home


@login_required
def home(request):
    actor = request.actor
    if actor.org is not None:
        return redirect("org_detail", pk=actor.org.pk)
    if administered_orgs(request.user).exists():
        return redirect("choose_org")
    return render(request, "home.html", {"home": member_home(actor)})


def csrf_failure(request, reason: str = ""):
    """CSRF_FAILURE_VIEW: the product's own card instead of Django's plain page (the reason stays in the log)."""
    return render(request, "403_csrf.html", status=403)


@require_GET
def healthz(request):
    """200 when every configured service answers, else 503; the body names each ("ok"/"down"), nothing more."""
    status = health.check()
    healthy = all(value == health.OK for value in status.values())
    response = JsonResponse(status, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response

"""The landing page: admins go to the org they act for, members to their own record."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from orgs.permissions import administered_orgs


@login_required
def home(request):
    actor = request.actor
    if actor.org is not None:
        return redirect("org_detail", pk=actor.org.pk)
    if administered_orgs(request.user).exists():
        return redirect("choose_org")
    return render(request, "home.html")


def csrf_failure(request, reason: str = ""):
    """CSRF_FAILURE_VIEW: the product's own card instead of Django's plain page (the reason stays in the log)."""
    return render(request, "403_csrf.html", status=403)

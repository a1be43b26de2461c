"""The landing page: admins go to the org they act for, members to their own record."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from orgs.permissions import administered_orgs

from .home import member_home


@login_required
def home(request):
    actor = request.actor
    if actor.org is not None:
        return redirect("org_detail", pk=actor.org.pk)
    if administered_orgs(request.user).exists():
        return redirect("choose_org")
    return render(request, "home.html", {"home": member_home(actor)})

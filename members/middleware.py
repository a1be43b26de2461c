"""Attaches request.actor (who is acting, for which org) and holds people to the activation step."""

from django.shortcuts import redirect
from django.urls import reverse

from orgs.models import Org
from orgs.permissions import Actor

ACTING_ORG_SESSION_KEY = "acting_org_id"
# Paths a person who has not yet set a real password may still reach.
ACTIVATION_EXEMPT_PREFIXES = ("/password/set/", "/logout/", "/static/", "/i18n/", "/captcha/")


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind our proxy (USE_X_FORWARDED_FOR) the address it saw.

    The proxy appends the address it saw to X-Forwarded-For, after whatever the client sent, so only the
    last entry is trustworthy: taking the first would let a client pick a fresh address per attempt and
    slip past the per-address login lock.
    """
    from django.conf import settings

    if settings.USE_X_FORWARDED_FOR:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded[-1]:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR")


def actor_for(request) -> Actor:
    user = request.user
    ip = client_ip(request)
    if not user.is_authenticated:
        return Actor(person=user, org=None, ip=ip)
    org_id = request.session.get(ACTING_ORG_SESSION_KEY)
    org = None
    if org_id is not None:
        # Re-checked on every request: an admin replaced by a change loses access at once.
        org = (
            Org.objects.select_related("type", "parent")
            .filter(pk=org_id, admin_assignment__person=user)
            .first()
        )
        if org is None:
            request.session.pop(ACTING_ORG_SESSION_KEY, None)
    return Actor(person=user, org=org, ip=ip)


def _htmx_full_page_redirect(request, response):
    """An htmx request sent to the login or activation page must move the whole page there; followed inside
    the XHR, the login form would be swapped into a fragment (a tree node, a table row)."""
    from django.conf import settings
    from django.http import HttpResponse
    from django.shortcuts import resolve_url

    if request.headers.get("HX-Request") != "true" or response.status_code not in (301, 302):
        return response
    location = response.get("Location", "")
    targets = (resolve_url(settings.LOGIN_URL), reverse("password_set"))
    if not location.startswith(targets):
        return response
    replacement = HttpResponse(status=204)
    replacement["HX-Redirect"] = location
    return replacement


class ActorMiddleware:
    """Sets request.actor; holds people who never set a password to /password/set/."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.actor = actor_for(request)
        user = request.user
        if (
            user.is_authenticated
            and user.needs_password
            and not request.path.startswith(ACTIVATION_EXEMPT_PREFIXES)
        ):
            return _htmx_full_page_redirect(request, redirect(reverse("password_set")))
        return _htmx_full_page_redirect(request, self.get_response(request))

    def process_exception(self, request, exception):
        """A member acting for no org gets the site's own 404 page, which speaks to a member, even under DEBUG
        (Django's debug page lists every URL pattern: no page for a member, nor for the demo)."""
        from django.conf import settings
        from django.http import Http404

        actor = getattr(request, "actor", None)
        if (settings.DEBUG and isinstance(exception, Http404) and request.user.is_authenticated
                and actor is not None and actor.org is None):
            from django.views.defaults import page_not_found

            return page_not_found(request, exception)
        return None

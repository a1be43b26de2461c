"""`manage.py issue_admin_code ORG_CODE`: print a fresh admin registration code for an org.

The operator's path (e.g. the first admin of a root org): stdout carries the code alone, so scripts can
capture it; the expiry goes to stderr. Any live code of the org is revoked. Audited with no actor.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from orgs.codes import code_issue_by_operator
from orgs.models import Org


class Command(BaseCommand):
    help = "Print a fresh admin registration code for the org with this code (revokes its previous code)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("org_code", help="the organization's code, e.g. R0001")

    def handle(self, *args, org_code: str, **options) -> None:
        org = Org.objects.filter(code=org_code.strip()).first()
        if org is None:
            raise CommandError(f"No organization has the code {org_code!r}.")
        code, expires = code_issue_by_operator(org=org)
        self.stdout.write(code)
        self.stderr.write(
            f"Registration code for {org.code} {org.short_name}, valid until "
            f"{timezone.localtime(expires):%Y-%m-%d %H:%M %Z}; register at /register/admin/."
        )

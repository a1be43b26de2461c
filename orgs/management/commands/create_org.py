"""`manage.py create_org --type TYPE --name NAME [--full-name FULL] [--parent CODE] [--code CODE]`.

The operator's way to provision orgs (a root, or a child of the org with code CODE). stdout carries only
the new org's code so scripts can capture it. The same rules as the web path apply (containment, unique
code, sibling names); it is audited as action "org.create" with no acting person.
"""

from django.core.management.base import BaseCommand, CommandError

from orgs.models import Org, OrgType
from orgs.services import OrgError, org_create_by_operator


class Command(BaseCommand):
    help = "Create a root organization (no --parent) or a child of --parent; print the new org's code."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--type", required=True, dest="type_code",
                            help="committee, work_committee, general_branch or branch (an org type code)")
        parser.add_argument("--name", required=True, help="short name (简称)")
        parser.add_argument("--full-name", dest="full_name", default="", help="full name (全称); default: --name")
        parser.add_argument("--parent", default=None, help="the parent org's code; omit for a root")
        parser.add_argument("--code", default=None, help="the new org's code; default: assigned")

    def handle(self, *args, type_code: str, name: str, full_name: str, parent: str | None, code: str | None,
               **options) -> None:
        org_type = OrgType.objects.filter(code=type_code.strip()).first()
        if org_type is None:
            known = ", ".join(OrgType.objects.values_list("code", flat=True))
            raise CommandError(f"Unknown type {type_code!r}: use one of {known}.")
        parent_org = None
        if parent is not None:
            parent_org = Org.objects.select_related("type").filter(code=parent.strip()).first()
            if parent_org is None:
                raise CommandError(f"No organization has the code {parent!r} (given as --parent).")
        try:
            org = org_create_by_operator(parent=parent_org, type=org_type, short_name=name,
                                         full_name=full_name, code=code)
        except OrgError as error:
            raise CommandError(error.message) from None
        self.stdout.write(org.code)

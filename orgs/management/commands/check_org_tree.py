"""`manage.py check_org_tree [--fix]`: verify the MPTT fields of every org; --fix rebuilds them.

Compares each org's lft/rght/level/tree_id with a fresh numbering computed from the parent links and
reports each org that differs. Exits non-zero when the tree is broken and --fix was not given. --fix
renumbers everything under the tree lock, then checks again.
"""

from django.core.management.base import BaseCommand, CommandError

from orgs.models import Org
from orgs.tree import rebuild_tree, tree_problems


class Command(BaseCommand):
    help = "Verify lft/rght/level/tree_id of the organization tree; --fix rebuilds them from the parent links."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--fix", action="store_true", help="rebuild the MPTT fields under the tree lock")

    def handle(self, *args, fix: bool, **options) -> None:
        problems = tree_problems()
        total = Org.objects.count()
        if not problems:
            self.stdout.write(f"OK: {total} organizations, the tree is consistent.")
            return
        for problem in problems:
            self.stdout.write(f"BROKEN {problem.describe()}")
        if not fix:
            raise CommandError(f"{len(problems)} of {total} organizations have wrong tree fields; "
                               "run check_org_tree --fix to rebuild.")
        rebuild_tree()
        remaining = tree_problems()
        if remaining:
            raise CommandError(f"Rebuild left {len(remaining)} organizations wrong (a parent cycle?).")
        self.stdout.write(f"FIXED: rebuilt the tree of {total} organizations; it is consistent now.")

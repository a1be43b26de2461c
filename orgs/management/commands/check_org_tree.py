"""`manage.py check_org_tree [--fix]`: verify the MPTT fields and subtree member counts of every org; --fix
rebuilds them.

Compares each org's lft/rght/level/tree_id with a fresh numbering computed from the parent links, and each
kept subtree member count with a fresh count of the members, and reports each org that differs. Exits
non-zero when something is wrong and --fix was not given. --fix renumbers everything under the tree lock and
recounts, then checks again.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from orgs.counts import count_problems, recount
from orgs.models import Org
from orgs.tree import lock_tree, rebuild_tree, tree_problems


class Command(BaseCommand):
    help = "Verify lft/rght/level/tree_id of the organization tree; --fix rebuilds them from the parent links."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--fix", action="store_true", help="rebuild the MPTT fields under the tree lock")

    def handle(self, *args, fix: bool, **options) -> None:
        problems = tree_problems()
        total = Org.objects.count()
        if not problems:
            counts = count_problems()
            if not counts:
                self.stdout.write(f"OK: {total} organizations, the tree is consistent.")
                return
            for org_id, stored, expected in counts:
                self.stdout.write(f"BROKEN member count of org {org_id}: {stored} (expected {expected})")
            if not fix:
                raise CommandError(f"{len(counts)} of {total} organizations have wrong member counts; "
                                   "run check_org_tree --fix to recount.")
            self._recount()
            self.stdout.write(f"FIXED: recounted the members of {total} organizations; the tree is consistent now.")
            return
        for problem in problems:
            self.stdout.write(f"BROKEN {problem.describe()}")
        if not fix:
            raise CommandError(f"{len(problems)} of {total} organizations have wrong tree fields; "
                               "run check_org_tree --fix to rebuild.")
        rebuild_tree()
        self._recount()
        remaining = tree_problems()
        if remaining:
            raise CommandError(f"Rebuild left {len(remaining)} organizations wrong (a parent cycle?).")
        self.stdout.write(f"FIXED: rebuilt the tree of {total} organizations; it is consistent now.")

    @staticmethod
    @transaction.atomic
    def _recount() -> None:
        lock_tree()
        recount()

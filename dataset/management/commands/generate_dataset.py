"""`manage.py generate_dataset --orgs N --members M [--seed S]`: a synthetic province for benchmarks.

Builds province → cities → counties → committees and work committees → general branches → branches of 3–50
members, with valid ID numbers, an admin per org (password DEMO_PASSWORD, hashed once) who is also its
secretary, an organization committee member per branch, completed transfers with their approved requests,
audit history, and pending requests and transfers filed through the services. ANALYZE (VACUUM ANALYZE on
PostgreSQL) at the end; the tree check must pass.

Refuses a database that already holds orgs or people: the generated ids, codes and ID numbers assume an empty
one. --force empties the data tables first (org types stay) — meant for throw-away benchmark databases.
"""

import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from dataset import load
from dataset.shape import ShapeError, plan
from members.models import Person
from orgs.models import Org, OrgType
from orgs.tree import tree_problems
from zhtj import dbrules

DATA_APPS = ("orgs", "members", "approvals", "transfers", "imports", "audit")


def empty_data_tables() -> None:
    """Every row of the data apps but the org types, and the sessions (they name people)."""
    models = [m for label in DATA_APPS for m in apps.get_app_config(label).get_models() if m is not OrgType]
    tables = [m._meta.db_table for m in models] + ["django_session", "django_admin_log"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            return
    # SQLite refuses row deletes from the audit trail: lift that rule for this wipe only (as manage.py flush does).
    dbrules.lift_audit_delete_rule(connection)
    try:
        with connection.constraint_checks_disabled(), connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
            marks = ", ".join(["%s"] * len(tables))
            cursor.execute(f"DELETE FROM sqlite_sequence WHERE name IN ({marks})", tables)
    finally:
        dbrules.install(connection)


class Command(BaseCommand):
    help = "Generate a synthetic province (orgs, admins, members, cadres, transfers, requests, audit history)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--orgs", type=int, required=True, help="organizations in all (at least 6)")
        parser.add_argument("--members", type=int, required=True,
                            help="members in all (3 to 50 per branch; about 95%% of the orgs are branches)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--transfers", type=int, default=None,
                            help="completed transfers in the history (default: a tenth of the members)")
        parser.add_argument("--pending", type=int, default=None,
                            help="pending personal-info requests, and as many pending transfers, filed through "
                                 "the services (default: one per 5,000 members, 1 to 200)")
        parser.add_argument("--force", action="store_true", help="empty the data tables of a non-empty database first")
        parser.add_argument("--keep-constraints", action="store_true",
                            help="PostgreSQL: load with every index, constraint and trigger in place (to measure "
                                 "what setting them aside saves)")

    def _progress(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def handle(self, *args, orgs: int, members: int, seed: int, transfers: int | None, pending: int | None,
               force: bool, keep_constraints: bool, **options) -> None:
        try:
            shape = plan(orgs, members, seed)
        except ShapeError as exc:
            raise CommandError(str(exc)) from None
        if Org.objects.exists() or Person.objects.exists():
            if not force:
                raise CommandError("The database already holds organizations or people; generate_dataset writes "
                                   "into an empty database only. Use --force to empty the data tables first.")
            self.stdout.write("--force: emptying the data tables")
            empty_data_tables()
        transfers = members // 10 if transfers is None else transfers
        pending = min(200, max(1, members // 5000)) if pending is None else pending
        start = time.perf_counter()
        report = load.generate(shape, seed=seed, transfers=transfers, pending=pending,
                               keep_constraints=keep_constraints, log=self._progress)
        total = time.perf_counter() - start
        problems = tree_problems()
        if problems:
            raise CommandError(f"the generated tree is broken: {problems[0].describe()}")
        extra = ""
        if report.wal_bytes is not None:
            extra = f", WAL {report.wal_bytes / 2**20:,.0f} MB, {report.checkpoints} checkpoints"
        self.stdout.write(f"Generated in {total:.1f} s ({connection.vendor}{extra}): "
                          + ", ".join(f"{n:,} {label.split('.')[1]}" for label, n in report.counts.items()))
        self.stdout.write(f"Root admin: ID number {report.root_admin_id_number}, password {load.DEMO_PASSWORD} "
                          f"(org k's admin is person k; every admin has this password)")

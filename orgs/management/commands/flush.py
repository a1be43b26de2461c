"""`manage.py flush`, Django's own, able to empty the append-only audit table on SQLite too.

Flushing wipes every table on purpose (PostgreSQL does it with TRUNCATE, which the audit trigger does not
see). SQLite flushes with row DELETEs, which the audit trigger refuses, so the flush lifts that rule for its
own run and installs it again afterwards, whatever happened (a cancelled or failed flush included).
"""

from django.core.management.commands import flush
from django.db import connections

from zhtj import dbrules


class Command(flush.Command):
    def handle(self, **options) -> None:
        connection = connections[options["database"]]
        dbrules.lift_audit_delete_rule(connection)
        try:
            super().handle(**options)
        finally:
            dbrules.install(connection)

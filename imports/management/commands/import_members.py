"""manage.py import_members FILE --org ORG_CODE [--report OUT.xlsx] [--json]: the web import, for operators.

Prints the same result sentence as the web page; --json prints {"imported", "failed", "failures"}. Exits 0
when the file was read (even if rows failed), non-zero with the reason when it could not be.
"""

import json
import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from imports.models import ImportStatus
from imports.reader import FileError
from imports.services import import_path
from orgs.models import Org


class Command(BaseCommand):
    help = "Import members (into a branch) or cadres (into a higher org) from an Excel workbook."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="the .xlsx or .xls workbook")
        parser.add_argument("--org", required=True, dest="org_code", help="the organization code")
        parser.add_argument("--report", help="write the failure workbook (failed rows and reasons) here")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, file: str, org_code: str, report: str | None, json: bool, **options) -> None:
        org = Org.objects.select_related("type").filter(code=org_code).first()
        if org is None:
            raise CommandError(_("No organization has the code %(code)s.") % {"code": org_code})
        try:
            job, result = import_path(Path(file), org=org)
        except FileError as exc:
            raise CommandError(exc.message) from None
        if result is None:
            raise CommandError(job.error_message or _("The import did not run."))
        if job.status != ImportStatus.SUCCEEDED:
            raise CommandError(job.error_message)
        if report:
            if result.failure_path is not None:
                shutil.copyfile(result.failure_path, report)
            else:
                Path(report).unlink(missing_ok=True)
        if json:
            self.stdout.write(_json.dumps({"imported": result.imported, "failed": result.failed,
                                           "failures": result.failures}, ensure_ascii=False))
        else:
            self.stdout.write(result.sentence)
            if report and result.failure_path is not None:
                self.stdout.write(_("Failed rows and their reasons: %(path)s") % {"path": report})


_json = json

"""`python manage.py issue_reset_code ID_NUMBER`: a one-time password reset code for a person nobody in the
tree may control (the admin of a top-level org), printed alone on stdout; its expiry goes to stderr."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from members import accounts


class Command(BaseCommand):
    help = "Print a one-time password reset code for the person with this ID number (audited as the operator)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("id_number", help="the person's 18-character resident ID number")

    def handle(self, *args, id_number: str, **options) -> None:
        try:
            code, expires = accounts.reset_code_issue_by_operator(id_number=id_number)
        except accounts.AccountError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(code)
        self.stderr.write(f"expires {timezone.localtime(expires):%Y-%m-%d %H:%M %Z}")

"""`python manage.py unlock_login ID_NUMBER [--ip ADDRESS]`: lift a temporary login lock early (helpdesk).

Clears the failure counters and locks of the login and reset-code throttles for that ID number (and
address, when given), and records the unlock in the audit trail.
"""

from django.core.management.base import BaseCommand, CommandParser

from audit.services import record
from members import accounts, idnumber, throttle


class Command(BaseCommand):
    help = "Lift the temporary login lock of an ID number (and optionally of a client address)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("id_number", help="the ID number as the person types it")
        parser.add_argument("--ip", default=None, help="also unlock this client address")

    def handle(self, *args, id_number: str, ip: str | None, **options) -> None:
        account = idnumber.normalize(id_number)
        for scope in (accounts.LOGIN_SCOPE, accounts.RESET_SCOPE, accounts.PASSWORD_CHANGE_SCOPE):
            throttle.clear(scope, account=account, ip=ip)
        record(action="login.unlocked", ip=ip, reason="manage.py unlock_login",
               after={"id_number": idnumber.mask(account)})
        self.stdout.write(f"unlocked {idnumber.mask(account)}" + (f" and {ip}" if ip else ""))

"""The one base of the errors a service raises to refuse something: its message is for the user.

Each app names its own (OrgError, MemberError, AccountError, CodeError, ApprovalError, TransferError,
FileError, ImportRefused) so callers catch what they expect; they all carry a translated `message` (str()
gives it) and, where a form shows it, the `field` it belongs to. Errors that are not for the user (a damaged
workbook's XlsxError, which readers turn into a FileError) stay plain exceptions.
Plumbing at the bottom of the layers (docs/architecture.md): it names no app.
"""

from typing import Any


class UserError(Exception):
    """A refusal with a translated, user-facing message; field names the form field it belongs to."""

    def __init__(self, message: Any = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)

    def add_to_form(self, form: Any) -> None:
        """Show the message on its field when the form has that field, else above the form."""
        form.add_error(self.field if self.field in form.fields else None, self.message)

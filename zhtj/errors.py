"""The one base of the errors a service raises to refuse something: its message is for the user.

Each app names its own (OrgError, MemberError, ApprovalError, …) so callers catch what they expect; they
all carry a translated `message` (str() gives it) and, where a form shows it, the `field` it belongs to.
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

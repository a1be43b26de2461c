"""Every refusal a service raises shares one base (zhtj.errors.UserError): a translated message, str() gives
it, and the form field it belongs to when there is one."""

import pytest
from django.utils.translation import gettext_lazy

from approvals.kinds import ApprovalError
from imports.reader import FileError
from orgs.services import OrgError
from transfers.services import TransferError
from zhtj.errors import UserError


@pytest.mark.parametrize("error_class", [OrgError, ApprovalError, FileError, TransferError])
def test_app_errors_are_user_errors(error_class):
    assert issubclass(error_class, UserError)


def test_a_user_error_shows_its_lazy_message_and_keeps_its_field():
    message = gettext_lazy("Nothing was changed.")
    error = OrgError(message, field="short_name")
    assert str(error) == str(message) == "没有任何修改。" and error.field == "short_name"
    assert str(FileError("坏文件")) == "坏文件" and FileError("坏文件").field is None

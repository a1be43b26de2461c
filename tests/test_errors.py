"""Every refusal a service raises shares one base (zhtj.errors.UserError): a translated message, str() gives
it, and the form field it belongs to when there is one."""

import pytest
from django import forms
from django.utils.translation import gettext_lazy

from approvals.kinds import ApprovalError
from imports.reader import FileError
from imports.services import ImportRefused
from members.accounts import AccountError
from members.services import MemberError
from orgs.codes import CodeError
from orgs.services import OrgError
from transfers.services import TransferError
from zhtj.errors import UserError


@pytest.mark.parametrize("error_class", [OrgError, ApprovalError, FileError, TransferError, MemberError, AccountError,
                                         CodeError, ImportRefused])
def test_app_errors_are_user_errors(error_class):
    assert issubclass(error_class, UserError)


def test_a_user_error_shows_its_lazy_message_and_keeps_its_field():
    message = gettext_lazy("Nothing was changed.")
    error = OrgError(message, field="short_name")
    assert str(error) == str(message) == "没有任何修改。" and error.field == "short_name"
    assert str(FileError("坏文件")) == "坏文件" and FileError("坏文件").field is None


def test_member_and_account_errors_keep_their_own_shapes_on_the_base():
    error = MemberError(errors={"name": "请填写姓名。", "phone": "请填写手机号码。"})
    assert error.message == str(error) == "请填写姓名。; 请填写手机号码。" and error.field is None
    account = AccountError(["太短。", "太常见。"], field="new_password1")
    assert account.messages == ["太短。", "太常见。"] and str(account) == "太短。; 太常见。"
    assert account.field == "new_password1"


def test_a_user_error_goes_on_its_field_or_above_the_form():
    class Form(forms.Form):
        code = forms.CharField()

    form = Form({"code": "x"})
    assert form.is_valid()
    CodeError("错误的注册码。", field="code").add_to_form(form)
    CodeError("出错了。", field="no_such_field").add_to_form(form)
    assert form.errors == {"code": ["错误的注册码。"], "__all__": ["出错了。"]}

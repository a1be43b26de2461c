"""The UI speaks Simplified Chinese by default from the committed catalog; English stays selectable."""

from django.urls import reverse
from django.utils import translation

from imports.services import result_sentence


def test_import_result_sentence_is_exactly_the_chinese_wording_by_default():
    with translation.override("zh-hans"):
        assert result_sentence("member", 5, 2) == "成功导入5位团员,2位团员导入失败"
        assert result_sentence("cadre", 3, 0) == "成功导入3位团干部,0位团干部导入失败"


def test_login_page_is_chinese_by_default(client, db):
    body = client.get(reverse("login")).content.decode()
    assert "智慧团建" in body and 'lang="zh-hans"' in body


def test_english_can_be_selected(client, db):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert response.status_code == 302
    body = client.get(reverse("login")).content.decode()
    assert "Smart League Building" in body and 'lang="en"' in body


def test_every_catalog_entry_is_translated():
    import polib
    from django.conf import settings

    catalog = polib.pofile(str(settings.BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    untranslated = [e.msgid for e in catalog.untranslated_entries() if not e.obsolete]
    assert untranslated == []


def test_browser_language_does_not_switch_the_ui_to_english(client, db):
    # Chinese users' browsers often send en-US; only the language switcher changes the language.
    body = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in body and "智慧团建" in body


def test_password_too_short_message_is_chinese():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with translation.override("zh-hans"):
        try:
            validate_password("Ab3$")
        except ValidationError as exc:
            messages = exc.messages
    assert "密码太短，至少需要 8 个字符。" in messages

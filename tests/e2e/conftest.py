"""Fixtures shared by the browser tests (the browser itself and e2e_settings live in tests/conftest.py)."""


import pytest
from captcha.conf import settings as captcha_settings


@pytest.fixture
def captcha_test_mode(monkeypatch):
    """django-simple-captcha reads its own settings object: accept "PASSED" as every captcha's answer."""
    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)


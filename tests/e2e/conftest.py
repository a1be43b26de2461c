"""Fixtures shared by the browser tests (the browser itself and e2e_settings live in tests/conftest.py)."""

import importlib

import pytest
from captcha.conf import settings as captcha_settings

from orgs.models import OrgType


@pytest.fixture
def captcha_test_mode(monkeypatch):
    """django-simple-captcha reads its own settings object: accept "PASSED" as every captcha's answer."""
    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)


@pytest.fixture
def org_types(transactional_db):
    # A transactional test's flush empties the table the data migration filled; put the rows back.
    for code, name, category, order in importlib.import_module("orgs.migrations.0002_org_types").TYPES:
        OrgType.objects.get_or_create(code=code, defaults={"name": name, "category": category, "sort_order": order})

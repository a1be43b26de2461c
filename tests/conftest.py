"""Shared fixtures: a small org tree with fixed actors, and helpers to log in as one of them.

The tree:  root(committee) ─ wc(work committee) ─ gb(general branch) ─ branch
                              │                                      └ branch2
                              └ sibling(branch)
Actors: one admin per org, a member of `branch`, and `outsider`, admin of a separate root.
"""

import os
from dataclasses import dataclass

import pytest
from django.test import Client

from members.middleware import ACTING_ORG_SESSION_KEY
from orgs.models import Org

from . import factories as f

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # Real hashers cost ~0.3 s per call; the tests exercise our rules, not PBKDF2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _test_http_and_static():
    # Tests speak plain HTTP (the test client and the live server alike) and never run collectstatic (no
    # manifest). Session-wide, before live_server: its handler reads SECURE_SSL_REDIRECT once, at start.
    from django.conf import settings
    from django.test import override_settings

    with override_settings(
        SECURE_SSL_REDIRECT=False, SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False,
        STORAGES={**settings.STORAGES,
                  "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}},
    ):
        yield


@dataclass
class Tree:
    root: Org
    wc: Org
    gb: Org
    branch: Org
    branch2: Org
    sibling: Org
    other_root: Org
    root_admin: object
    wc_admin: object
    gb_admin: object
    branch_admin: object
    branch2_admin: object
    sibling_admin: object
    outsider: object
    member: object  # a Member of `branch`


@pytest.fixture
def tree(db) -> Tree:
    root = f.make_org("committee", short_name="市团委", code="R0001")
    wc = f.make_org("work_committee", parent=root, short_name="区团工委", code="W0001")
    gb = f.make_org("general_branch", parent=wc, short_name="学院团总支", code="G0001")
    branch = f.make_org("branch", parent=gb, short_name="一班团支部", code="B0001")
    branch2 = f.make_org("branch", parent=gb, short_name="二班团支部", code="B0002")
    sibling = f.make_org("branch", parent=wc, short_name="机关团支部", code="B0003")
    other_root = f.make_org("committee", short_name="外市团委", code="R0002")
    for org in (root, wc, gb, branch, branch2, sibling, other_root):
        org.refresh_from_db()
    return Tree(
        root=root, wc=wc, gb=gb, branch=branch, branch2=branch2, sibling=sibling, other_root=other_root,
        root_admin=f.make_admin(root), wc_admin=f.make_admin(wc), gb_admin=f.make_admin(gb),
        branch_admin=f.make_admin(branch), branch2_admin=f.make_admin(branch2), sibling_admin=f.make_admin(sibling),
        outsider=f.make_admin(other_root), member=f.make_member(branch),
    )


def login_as(client: Client, person, org: Org | None = None) -> Client:
    """Log a person in, acting for org (one they administer) when given."""
    client.force_login(person)
    if org is not None:
        session = client.session
        session[ACTING_ORG_SESSION_KEY] = org.pk
        session.save()
    return client


@pytest.fixture
def as_admin(client):
    """as_admin(person, org) -> a client logged in as person acting for org."""

    def _login(person, org):
        return login_as(client, person, org)

    return _login


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters live in the cache (Redis in CI): each test starts clean.
    from django.core.cache import cache

    cache.clear()
    yield


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (no downloaded browser builds)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


@pytest.fixture
def e2e_settings(settings):
    """Captcha test mode for browser tests; DEBUG off as in production but plain HTTP on localhost."""
    settings.CAPTCHA_TEST_MODE = True
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    return settings


@pytest.fixture
def english(settings, client):
    """Run a test in English: service messages, and pages the test client fetches."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def org_types(transactional_db):
    """The org types, back: a transactional test's flush empties the table the data migration filled."""
    import importlib

    from orgs.models import OrgType

    for code, name, category, order in importlib.import_module("orgs.migrations.0002_org_types").TYPES:
        OrgType.objects.get_or_create(code=code, defaults={"name": name, "category": category, "sort_order": order})


def role_relative_to_gb(tree: Tree, who: str):
    """(person, acting org) for each permission-matrix role, relative to the general branch `gb`."""
    return {
        "member": (tree.member.person, None),
        "admin": (tree.gb_admin, tree.gb),
        "direct_superior": (tree.wc_admin, tree.wc),
        "ancestor": (tree.root_admin, tree.root),
        "sibling": (tree.sibling_admin, tree.sibling),
        "descendant": (tree.branch_admin, tree.branch),
        "other_tree": (tree.outsider, tree.other_root),
    }[who]


# The view matrices' role names, relative to gb like role_relative_to_gb's.
_VIEW_ROLES = {"own": "admin", "superior": "direct_superior", "ancestor": "ancestor", "sibling": "sibling",
               "descendant": "descendant", "other_tree": "other_tree"}


def client_for(client: Client, tree: Tree, role: str) -> Client:
    """The client logged in as the role relative to the target org tree.gb ("anonymous": as it is; "member": a
    fresh member with a real password, so no activation step)."""
    if role == "anonymous":
        return client
    if role == "member":
        member = f.make_member(tree.branch, person=f.make_person())
        return login_as(client, member.person)
    return login_as(client, *role_relative_to_gb(tree, _VIEW_ROLES[role]))

"""Production settings: `manage.py check --deploy` is clean with only DEBUG, SECRET_KEY and ALLOWED_HOSTS set.

Run in a subprocess so the settings module is read from the environment exactly as a deployment reads it
(the test process itself runs with the test settings).
"""

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
             and not k.startswith(("SECURE_", "SESSION_", "CSRF_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean | env, capture_output=True, text=True,
        timeout=120,
    )


def _secret() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits + "!@#%^&*(-_=+)") for _ in range(50))


@pytest.mark.parametrize("database_url", ["sqlite:////tmp/zhtj-deploy-check.sqlite3", None])
def test_check_deploy_reports_no_issue_in_production(database_url):
    env = {"DEBUG": "0", "SECRET_KEY": _secret(), "ALLOWED_HOSTS": "example.org"}
    if database_url:
        env["DATABASE_URL"] = database_url
    result = _manage("check", "--deploy", "--fail-level", "DEBUG", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_debug_and_a_weak_key():
    # The check itself can fail: DEBUG on with the development key is reported.
    result = _manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="1", ALLOWED_HOSTS="example.org")
    assert result.returncode != 0
    assert "security.W018" in result.stderr + result.stdout  # DEBUG on in deployment


def test_https_is_on_by_default_in_production():
    code = ("from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
            "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.DEBUG)")
    result = _manage("shell", "-c", code, DEBUG="0", SECRET_KEY=_secret(), ALLOWED_HOSTS="example.org")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["True", "True", "True", "True", "False"]

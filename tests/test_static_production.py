"""Static files in production: collectstatic with WhiteNoise's manifest storage succeeds, and with DEBUG off the
pages that use {% static %} (the 404 page first of all) render with hashed file names.

Run in subprocesses so the settings are read from the environment exactly as a deployment reads them.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"


def _production_env(tmp_path: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if k not in {"DEBUG", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "STATIC_ROOT"}
            and not k.startswith(("SECURE_", "SESSION_", "CSRF_"))}
    return keep | {
        "DEBUG": "0", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "testserver", "SECURE_SSL_REDIRECT": "0",
        "STATIC_ROOT": str(tmp_path / "static"), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_vendored_files_carry_no_source_map_comment():
    # The maps are not shipped; a comment pointing at one makes the manifest storage fail (see README).
    for path in VENDOR.rglob("*"):
        if path.suffix in {".js", ".css"}:
            assert "sourceMappingURL" not in path.read_text(encoding="utf-8"), path


def test_collectstatic_with_the_manifest_storage_succeeds_and_the_404_page_renders(tmp_path):
    env = _production_env(tmp_path)
    collected = _manage(env, "collectstatic", "--noinput")
    assert collected.returncode == 0, collected.stdout + collected.stderr
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
    hashed = manifest["paths"]["vendor/bootstrap.min.css"]
    assert hashed != "vendor/bootstrap.min.css" and (tmp_path / "static" / hashed).is_file()

    code = (
        "from django.test import Client\n"
        "r = Client().get('/no/such/page/')\n"
        "print('STATUS', r.status_code)\n"
        "print(r.content.decode())\n"
    )
    shown = _manage(env, "shell", "-c", code)
    assert shown.returncode == 0, shown.stderr
    status, body = shown.stdout.split("STATUS ", 1)[1].split("\n", 1)
    assert status == "404", shown.stdout + shown.stderr
    assert hashed in body  # the hashed name from the manifest, not a 500
    assert "页面不存在" in body

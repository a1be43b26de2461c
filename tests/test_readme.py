"""README's opening is part of issue 2's contract: two commands, then the demo logins (which must work), then
production settings with the proxy set-up and the gunicorn and Celery commands."""

import io
import re
from pathlib import Path

from django.contrib.auth import authenticate
from django.core.management import call_command

from orgs.models import OrgAdmin

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands_then_demo_logins_then_production_settings():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines() if line.strip()]
    assert commands == ["make run", "make test"]
    headings = re.findall(r"^## (.+)$", README, re.M)
    assert headings[:2] == ["Demo logins", "Production settings"]
    assert README.index("make run") < README.index("## Demo logins")


def test_readme_production_section_has_the_settings_proxy_gunicorn_and_celery():
    section = README.split("## Production settings", 1)[1].split("\n## ", 1)[0]
    for needle in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "TRUST_X_FORWARDED_PROTO",
                   "USE_X_FORWARDED_FOR", "gunicorn zhtj.wsgi", "celery -A zhtj worker", "X-Forwarded-Proto"):
        assert needle in section, needle


def test_the_demo_logins_in_the_readme_work_after_seed_demo(db):
    call_command("seed_demo", stdout=io.StringIO())
    section = README.split("## Demo logins", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| [^|]+\| ([^|]+)\| `(\d{17}[\dX])` \| `([^`]+)`", section, re.M)
    assert len(rows) >= 3
    for org_cell, id_number, password in rows:
        person = authenticate(None, id_number=id_number, password=password)
        assert person is not None, id_number
        code = re.search(r"`(\d+)`", org_cell)
        if code:  # an admin row names the org they administer
            assert OrgAdmin.objects.get(person=person).org.code == code.group(1)


def test_readme_gunicorn_command_logs_no_query_strings_and_sets_timeout_and_workers():
    section = README.split("## Production settings", 1)[1].split("\n## ", 1)[0]
    [command] = [line for line in section.splitlines() if "gunicorn zhtj.wsgi" in line]
    assert "--timeout" in command and "--workers" in command
    # gunicorn's default access line includes the query string (%(q)s, and %(r)s / %(U)s... with it).
    assert "--access-logfile" not in command or ("%(q)s" not in command and "%(r)s" not in command)
    assert "/healthz" in section and "LOG_FORMAT" in section and "pg_dump" in section and "pg_restore" in section


def test_ci_production_check_runs_every_command_of_the_readme_production_block():
    # A README production command that CI does not run (or runs differently) fails here; .ci/production-check
    # then proves the commands work.
    section = README.split("## Production settings", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    commands = [line.split("  #")[0].strip() for line in block.splitlines() if line.startswith(".venv/bin/")]
    assert len(commands) == 5
    script = (Path(__file__).resolve().parent.parent / ".ci" / "production-check").read_text(encoding="utf-8")
    script = script.replace("$PY ", ".venv/bin/python ").replace('127.0.0.1:"$PORT"', "127.0.0.1:8000")
    for command in commands:
        assert command in script, command
    for needle in ("pg_dump --format=custom", "pg_restore --no-owner"):
        assert needle in section and needle in script

"""Shippable logs: one line per request and per Celery task, no personal data (no query strings, no ID
numbers), as text or JSON."""

import io
import json
import logging

import pytest
from django.test import Client

from zhtj.logs import JsonFormatter

ID_NUMBER = "110101198804230017"


@pytest.fixture
def written():
    """What the configured console handler writes (with its filters and format), as a StringIO."""
    [handler] = [h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)
                 and any(type(f).__name__ == "MaskLongNumbers" for f in h.filters)]
    buffer = io.StringIO()
    old = handler.setStream(buffer)
    yield buffer
    handler.setStream(old)


def _request_records(caplog):
    return [r for r in caplog.records if r.name == "zhtj.request"]


def test_one_line_per_request_with_method_path_status_and_duration(db, caplog):
    caplog.set_level(logging.INFO, logger="zhtj.request")
    Client().get("/login/?next=/orgs/1/&q=张三")
    [record] = _request_records(caplog)
    assert (record.method, record.path, record.status) == ("GET", "/login/", 200)
    assert isinstance(record.duration_ms, float) and record.duration_ms >= 0
    assert record.getMessage().startswith("GET /login/ 200 ")
    assert "?" not in record.getMessage() and "张三" not in caplog.text


def test_an_id_number_in_a_path_is_masked_in_every_line_written(db, caplog, written):
    caplog.set_level(logging.INFO, logger="zhtj.request")
    Client().get(f"/people/{ID_NUMBER}/")
    Client().get("/people/11010119880423001X/")
    assert [r.path for r in _request_records(caplog)] == ["/people/***/", "/people/***/"]
    out = written.getvalue()  # Django's own "Not Found: <path>" included
    assert "GET /people/***/ 404" in out and "Not Found: /people/***/" in out
    assert ID_NUMBER not in out and "11010119880423001X" not in out


def test_a_login_attempt_puts_no_id_number_in_any_log(tree, client, caplog, written, settings):
    settings.CAPTCHA_TEST_MODE = True
    caplog.set_level(logging.INFO)
    person = tree.branch_admin
    client.post("/login/", {"id_number": person.id_number, "password": "wrong-password", "captcha_0": "x",
                            "captcha_1": "PASSED"})
    assert _request_records(caplog)[-1].status in (200, 302)
    assert person.id_number not in caplog.text and person.id_number not in written.getvalue()


def test_the_json_format_has_one_object_a_line_with_the_request_fields():
    record = logging.LogRecord("zhtj.request", logging.INFO, __file__, 1, "%s %s %s %sms",
                               ("GET", "/login/", 200, 3.2), None)
    for name, value in {"method": "GET", "path": "/login/", "status": 200, "duration_ms": 3.2}.items():
        setattr(record, name, value)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "GET /login/ 200 3.2ms" and parsed["status"] == 200
    assert parsed["logger"] == "zhtj.request" and parsed["level"] == "INFO" and parsed["time"].endswith("+00:00")


def test_one_line_per_celery_task_with_name_state_and_duration_but_no_arguments(db, caplog):
    from imports.tasks import purge_old_uploads, run_import

    caplog.set_level(logging.INFO, logger="zhtj.task")
    purge_old_uploads.apply()
    run_import.apply(args=(987654321,), throw=False)  # no such job: the task fails, and its line says so
    done, failed = [r for r in caplog.records if r.name == "zhtj.task"]
    assert (done.task, done.state) == ("imports.purge_old_uploads", "SUCCESS")
    assert (failed.task, failed.state) == ("imports.run_import", "FAILURE")
    assert done.duration_ms is not None and "987654321" not in failed.getMessage()

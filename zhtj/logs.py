"""Logs an operator can ship: one line per request and one per Celery task, as text or JSON (LOG_FORMAT).

No personal data: a request line holds the method, the path without its query string (where search terms
and filters go), the status and the duration; any run of 11 or more digits (an ID number, a phone number) is
masked in every line written, so a mistyped or hand-made URL cannot put one in the log. Task lines hold the task's
name, id, state and duration, never its arguments.
"""

import datetime as dt
import json
import logging
import re
import time

from celery.signals import task_failure, task_postrun, task_prerun

request_log = logging.getLogger("zhtj.request")
task_log = logging.getLogger("zhtj.task")

_LONG_NUMBER = re.compile(r"\d{11,}[\dXx]?")
FIELDS = ("method", "path", "status", "duration_ms", "task", "task_id", "state")


def safe_path(path: str) -> str:
    return _LONG_NUMBER.sub("***", path)


class MaskLongNumbers(logging.Filter):
    """On the handler, so every line shipped is masked, Django's own "Not Found: <path>" included."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _LONG_NUMBER.sub("***", message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the request or task fields when present."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        line.update({name: getattr(record, name) for name in FIELDS if hasattr(record, name)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class RequestLogMiddleware:
    """First in MIDDLEWARE, so the duration covers every other middleware and the status is the final one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        response = self.get_response(request)
        duration = round((time.monotonic() - started) * 1000, 1)
        path = safe_path(request.path)
        request_log.info("%s %s %s %sms", request.method, path, response.status_code, duration, extra={
            "method": request.method, "path": path, "status": response.status_code, "duration_ms": duration})
        return response


_task_started: dict[str, float] = {}
_task_failed: set[str] = set()


@task_prerun.connect
def _task_prerun(task_id=None, **kwargs) -> None:
    _task_started[task_id] = time.monotonic()


@task_failure.connect
def _task_failure(task_id=None, **kwargs) -> None:
    _task_failed.add(task_id)


@task_postrun.connect
def _task_postrun(task_id=None, task=None, state=None, **kwargs) -> None:
    failed = task_id in _task_failed
    _task_failed.discard(task_id)
    if state is None:  # an in-process run whose exception propagates to its caller (who logs it)
        state = "FAILURE" if failed else "RAISED"
    started = _task_started.pop(task_id, None)
    duration = round((time.monotonic() - started) * 1000, 1) if started is not None else None
    name = getattr(task, "name", "?")
    task_log.info("task %s %s %s %sms", name, task_id, state, duration, extra={
        "task": name, "task_id": task_id, "state": state, "duration_ms": duration})

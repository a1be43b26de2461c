"""Import jobs: accepting an upload, running it (in the request, a Celery worker or the command), retrying.

A run reads, checks and inserts the rows batch by batch inside ONE transaction, so memory stays flat and
either every valid row is committed together with the job's success, or nothing is. A crash rolls back and
marks the job failed and retryable; a killed worker leaves a "running" job whose lock nobody holds (see
selectors.is_stale), which mark_interrupted_jobs() (on the beat schedule) or a retry marks failed and
retryable; pages only show it as interrupted. Imports are serialised (an advisory lock on
PostgreSQL; SQLite's single writer), so the same file uploaded twice imports nobody twice: the second run
finds everyone already a member.
See docs/import.md.
"""

import contextlib
import fcntl
import hashlib
import logging
import os
import pickle
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.services import record
from notifications.services import MessageKind, notify
from orgs.models import Org
from orgs.permissions import Actor, may_import_into
from spreadsheets.checks import corrupt_error
from zhtj.errors import UserError

from .columns import kind_for_org
from .commit import commit_rows
from .failures import FailureWorkbook
from .models import ImportJob, ImportKind, ImportStatus
from .reader import FileError, SheetData, Workbook
from .selectors import is_stale, release_job_lock, try_job_lock
from .validation import Row, RowChecker, cell_picker, clean_row

log = logging.getLogger(__name__)

BATCH_ROWS = 2000
FAILURES_SHOWN = 500  # kept on the job for the result page; the workbook holds them all
ADVISORY_LOCK_KEY = 0x7A68746A  # "zhtj": one import commits at a time
ALLOWED_EXTENSIONS = (".xlsx", ".xls", ".xlsm")
PIPE_BYTES = 1024 * 1024  # between the reading child and the job (see _clean_batches_in_child)


def too_big_message(size: int) -> str:
    return _("The file is %(size)s MB; at most %(max)s MB can be imported at once. Split it into smaller files.") % {
        "size": f"{size / 1048576:.1f}", "max": f"{settings.ZHTJ_IMPORT_MAX_BYTES / 1048576:.0f}"}


def no_rows_message(sheet: str) -> str:
    return _("The sheet “%(sheet)s” has a header row but no data rows below it. Fill in one row per person and"
             " upload the file again.") % {"sheet": sheet}


class ImportRefused(UserError):
    """A user-facing refusal before a job starts (wrong file type, no permission...)."""


def result_sentence(kind: str, imported: int, failed: int) -> str:
    """The one sentence every import ends with, on the page and from the command."""
    if kind == ImportKind.CADRE:
        return _("Imported %(imported)d cadre(s), %(failed)d cadre(s) failed to import") % {
            "imported": imported, "failed": failed}
    return _("Imported %(imported)d member(s), %(failed)d member(s) failed to import") % {
        "imported": imported, "failed": failed}


@dataclass
class ImportResult:
    kind: str
    imported: int = 0
    failed: int = 0
    failures: list[dict] = field(default_factory=list)  # {"row": n, "reason": "..."} for every failed row
    failure_path: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase

    @property
    def sentence(self) -> str:
        return result_sentence(self.kind, self.imported, self.failed)


# -- progress, kept in the cache so the page can read it while the job's transaction is open -------------

def progress_key(job_id: int) -> str:
    return f"imports:progress:{job_id}"


def _report(job: ImportJob, *, read: int, validated: int, imported: int) -> None:
    cache.set(progress_key(job.pk), {"read": read, "validated": validated, "imported": imported,
                                     "at": time.time()}, timeout=24 * 3600)


# -- accepting an upload --------------------------------------------------------------------------------

def _sha256(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def create_job(*, actor: Actor | None, org: Org, upload: UploadedFile) -> ImportJob:
    """Store the upload and check the file as a whole; a bad file gives a failed job with its one sentence.

    actor None is an operator at the command line (manage.py import_members).
    """
    if actor is not None and not may_import_into(actor, org):
        raise ImportRefused(_("Only the organization's own admin (for a branch, also its direct superior admin) may"
                              " import into it."))
    name = Path(upload.name or "upload.xlsx").name[:200]
    job = ImportJob(org=org, kind=kind_for_org(org), file_name=name, file_size=upload.size or 0,
                    created_by=getattr(actor, "person", None) if actor is not None else None,
                    created_for=getattr(actor, "org", None) if actor is not None else None,
                    uploader_ip=getattr(actor, "ip", None) or None)
    if (upload.size or 0) > settings.ZHTJ_IMPORT_MAX_BYTES:
        job.status, job.error_message = ImportStatus.FAILED, too_big_message(upload.size)
        job.finished_at = timezone.now()
        job.save()
        return job
    job.file_sha256 = _sha256(upload)
    job.save()
    # The stored name is the job id: the uploaded name is shown, never used as a path.
    job.file.save(f"job-{job.pk}{Path(name).suffix.lower()[:6] or '.xlsx'}", upload, save=False)
    try:
        if job.file_size <= getattr(settings, "ZHTJ_IMPORT_PREFLIGHT_BYTES", 1024 * 1024):
            # Small files are parsed now, so a missing column or an empty sheet is said on the form.
            data = Workbook(job.file.path, name=name).find_data(job.kind)
            if next(data.iter_rows(), None) is None:
                raise FileError(no_rows_message(data.sheet_name))
            job.background = data.max_data_rows > settings.ZHTJ_IMPORT_BACKGROUND_ROWS
        else:
            # A file this size holds thousands of rows: check the container now (signature, sizes, DTDs) and
            # leave parsing (seconds at 100,000 rows) to the background job, which reports sheet problems.
            Workbook(job.file.path, name=name, parse=False)
            job.background = True
    except FileError as exc:
        _fail_file(job, exc.message)
        return job
    except Exception:
        # A damaged file can make a parser fail in ways nobody listed; it still gets the "damaged" sentence, and
        # the job and its upload are not left behind (queued, on disk) for a request that answered 500.
        log.exception("import job %s: the upload could not be read", job.pk)
        _fail_file(job, corrupt_error().message)
        return job
    job.save(update_fields=["file", "file_sha256", "background"])
    return job


def start_job(job: ImportJob, *, actor: Actor | None = None) -> None:
    """Run a queued job: small files now, large ones on a worker once the surrounding transaction commits."""
    if job.status != ImportStatus.QUEUED:
        return
    if job.background:
        from .tasks import run_import

        # ZHTJ_IMPORT_QUEUE lets a deployment (or a test) route imports to workers of their own.
        queue = getattr(settings, "ZHTJ_IMPORT_QUEUE", None)
        transaction.on_commit(lambda: run_import.apply_async((job.pk,), queue=queue) if queue
                              else run_import.delay(job.pk))
    else:
        run_job(job.pk, actor=actor)


def _tell_uploader(job: ImportJob, text: str, **params) -> None:
    """The person who uploaded the file learns how it ended (a job may finish on a worker, long after)."""
    if job.created_by_id is None:
        return  # an operator at the command line reads the outcome there
    notify(recipient=job.created_by, kind=MessageKind.IMPORT_FINISHED, text=text,
           link=reverse("import_job", args=[job.pk]),
           params={"file": job.file_name, "org": job.org.short_name, **params})


def _fail_file(job: ImportJob, message: str) -> None:
    job.status = ImportStatus.FAILED
    job.error_message = message
    job.retryable = False
    job.finished_at = timezone.now()
    _delete_upload(job)
    with transaction.atomic():
        job.save()
        if job.background:  # a form shows a small file's refusal at once; a background job's is told here
            _tell_uploader(job, gettext_noop("The import of %(file)s into %(org)s failed: %(error)s"),
                           error=message)


def _delete_upload(job: ImportJob) -> None:
    if job.file:
        job.file.delete(save=False)
    job.file = ""


# -- running ----------------------------------------------------------------------------------------------

def _claim(job_id: int) -> ImportJob | None:
    """queued → running (or take over a running job whose worker died); None when there is nothing to do."""
    with transaction.atomic():
        job = (ImportJob.objects.select_for_update(of=("self",))
               .select_related("org__type", "created_by", "created_for", "retried_by").get(pk=job_id))
        if job.status == ImportStatus.RUNNING and is_stale(job):
            pass  # a redelivered task after a killed worker: run it again
        elif job.status != ImportStatus.QUEUED:
            return None
        # Held (on PostgreSQL) until this run ends, so others can tell a live worker from a dead one.
        if not try_job_lock(job.pk):
            return None
        try:
            job.status = ImportStatus.RUNNING
            job.attempts += 1
            job.started_at = timezone.now()
            job.error_message = ""
            job.save(update_fields=["status", "attempts", "started_at", "error_message"])
        except BaseException:
            release_job_lock(job.pk)
            raise
    _report(job, read=0, validated=0, imported=0)
    return job


def run_job(job_id: int, *, actor: Actor | None = None) -> ImportResult | None:
    """Run one job to its end; never raises for a bad file or a crash (the job records it)."""
    job = _claim(job_id)
    if job is None:
        return None
    # Who the run is audited as: the admin who retried it, else the uploader (a worker has only the job).
    runner, runner_ip = ((job.retried_by, job.retried_from) if job.retried_by_id
                         else (job.created_by, job.uploader_ip))
    if actor is None and runner is not None:
        # The uploader acted for created_for (the job's org, or its direct superior importing into it).
        org = job.created_for if runner is job.created_by and job.created_for_id else job.org
        actor = Actor(person=runner, org=org, ip=runner_ip)
    elif actor is not None and actor.ip is None and runner_ip:
        actor = replace(actor, ip=runner_ip)
    try:
        return _execute(job, actor)
    except FileError as exc:
        _fail_file(job, exc.message)
        return None
    except Exception:
        log.exception("import job %s crashed", job.pk)
        with transaction.atomic():
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportStatus.FAILED, retryable=True, finished_at=timezone.now(),
                error_message=_("The import stopped because of an unexpected error, so nothing was imported. You"
                                " can run it again."))
            if job.background:
                _tell_uploader(job, gettext_noop(
                    "The import of %(file)s into %(org)s stopped because of an unexpected error; nothing was"
                    " imported. You can run it again."
                ))
        return None
    finally:
        release_job_lock(job.pk)


def _lock_imports() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])


class _Clock:
    """Adds the seconds since the last lap to a phase of `spent` (reported by the bench and logged)."""

    def __init__(self, spent: dict[str, float]) -> None:
        self.spent = spent
        self._at = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.spent[phase] = self.spent.get(phase, 0.0) + now - self._at
        self._at = now


def _clean_batches(data: SheetData, kind: str, checker: RowChecker, *, today, spent: dict[str, float]
                   ) -> Iterator[tuple[list[Row], int]]:
    """(cleaned rows, rows read so far) for each batch of the sheet: everything that needs no database."""
    clock = _Clock(spent)
    rows = data.iter_rows()
    pick = cell_picker(data.positions)
    positions = data.positions
    read = 0
    while True:
        chunk = list(islice(rows, BATCH_ROWS))
        clock.lap("read")
        if not chunk:
            return
        read += len(chunk)
        batch = [clean_row(number, cells, positions, kind, today=today, pick=pick) for number, cells in chunk]
        checker.check_in_file(batch)
        clock.lap("validate")
        yield batch, read


def _clean_batches_in_child(data: SheetData, kind: str, checker: RowChecker, *, today,
                            spent: dict[str, float]) -> Iterator[tuple[list[Row], int]]:
    """The same batches, read and cleaned by a forked child process while this one writes the previous batch.

    Why a process: reading and cleaning is pure Python and so is most of writing; in one process they take
    turns on the GIL, in two they run on two cores (figures in docs/performance.md).
    The child inherits everything it needs (the opened sheet, the checker, the active language) and touches
    no database; it sends pickled batches through a pipe and leaves with os._exit, so nothing of the parent's
    (its database connection, atexit handlers) is closed or run twice.
    """
    read_end, write_end = os.pipe()
    with contextlib.suppress(AttributeError, OSError):
        # A batch pickles to ~400 KB; in the default 64 KB pipe the child blocks until this side reads it, so the
        # two sides take turns at batch boundaries. 1 MB (Linux's default maximum) lets the child run ahead.
        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    pid = os.fork()
    if pid == 0:  # the child
        status = 0
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb") as out:
                try:
                    for batch, read in _clean_batches(data, kind, checker, today=today, spent=spent):
                        pickle.dump(("batch", batch, read), out, protocol=pickle.HIGHEST_PROTOCOL)
                    pickle.dump(("done", spent), out)
                except FileError as exc:
                    pickle.dump(("file_error", exc.message), out)
                except BaseException:
                    pickle.dump(("crash", traceback.format_exc()), out)
        except BaseException:  # the parent went away: nobody to tell
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as incoming:
            while True:
                try:
                    message = pickle.load(incoming)
                except EOFError:
                    raise RuntimeError("the import's reading process ended without finishing (killed?)") from None
                if message[0] == "batch":
                    yield message[1], message[2]
                elif message[0] == "done":
                    spent.update(message[1])
                    return
                elif message[0] == "file_error":
                    raise FileError(message[1])
                else:
                    raise RuntimeError(f"the import's reading process failed:\n{message[1]}")
    finally:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)  # a no-op when it has finished; stops it when this side failed
            os.waitpid(pid, 0)


def _single_threaded() -> bool:
    return threading.active_count() == 1


def _execute(job: ImportJob, actor: Actor | None) -> ImportResult:
    today = timezone.localdate()
    result = ImportResult(kind=job.kind)
    spent: dict[str, float] = {}
    child_spent: dict[str, float] = {}
    clock = _Clock(spent)
    data = Workbook(job.file.path, name=job.file_name).find_data(job.kind)
    handle, name = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    tmp_path = Path(name)
    failures = FailureWorkbook(tmp_path, sheet_name=data.sheet_name, header_cells=data.header_cells,
                               positions=data.positions)
    clock.lap("open")
    read = validated = 0
    try:
        with transaction.atomic():
            _lock_imports()
            _tune_the_session()
            org = Org.objects.select_for_update(of=("self",)).select_related("type").get(pk=job.org_id)
            checker = RowChecker(org, job.kind, today=today, actor=actor)
            clock.lap("open")
            batches = (_clean_batches_in_child if _reads_in_child(job, data) else _clean_batches)(
                data, job.kind, checker, today=today, spent=child_spent)
            read, validated = _import_batches(job, batches, checker, org=org, actor=actor, failures=failures,
                                              result=result, clock=clock)
            clock.lap("wait")
            if read == 0:
                raise FileError(no_rows_message(data.sheet_name))
            result.failed = len(result.failures)
            saved = failures.save()
            clock.lap("failures")
            _finish(job, result, saved, org=org, actor=actor, read=read, validated=validated)
            clock.lap("failures")
        clock.lap("commit")  # the COMMIT itself
    except BaseException:
        failures.discard()
        if job.failure_file:  # saved just before a commit that did not happen
            job.failure_file.delete(save=False)
        raise
    finally:
        tmp_path.unlink(missing_ok=True)
    _report(job, read=read, validated=validated, imported=result.imported)
    # Reading and cleaning ("read", "validate") overlap the rest when a child process did them.
    result.timings = {**spent, **child_spent}
    log.info("import job %s: %d read, %d imported, %d failed; seconds per phase %s", job.pk, read,
             result.imported, result.failed, {k: round(v, 2) for k, v in result.timings.items()})
    return result


def _tune_the_session() -> None:
    """PostgreSQL settings for one long transaction that inserts what it later looks up."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # Foreign keys are checked as each batch is inserted, while the next one is being cleaned,
        # rather than all at COMMIT, when nothing else can run (about a second per 100,000 people).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # Every query of a run looks rows up by key. The planner's statistics do not count the rows
        # this transaction adds, so on tables that started (nearly) empty it chose sequential scans
        # that grew with every batch: 30 ms a lookup at 50,000 rows instead of 2.
        cursor.execute("SET LOCAL enable_seqscan = off")


def _reads_in_child(job: ImportJob, data: SheetData) -> bool:
    """Whether a forked child process reads and cleans the rows while this one checks and commits."""
    # A sheet that declares no extent (openpyxl's write-only mode, some exporters) is not counted again
    # (that would read it twice): the upload's size or count already chose a background job or not.
    large = job.background if data.last_row is None else data.max_data_rows > settings.ZHTJ_IMPORT_PARALLEL_ROWS
    # Never fork a process with other threads (runserver, a threaded worker): a lock one of them holds,
    # SQLite's for one, would stay locked forever in the child. One process is slower, not wrong.
    parallel = large and hasattr(os, "fork") and _single_threaded()
    log.info("import job %s: %s", job.pk, "reading in a forked child process" if parallel
             else "reading in this process")
    return parallel


def _import_batches(
    job: ImportJob, batches: Iterator[tuple[list[Row], int]], checker: RowChecker, *, org: Org,
    actor: Actor | None, failures: FailureWorkbook, result: ImportResult, clock: _Clock,
) -> tuple[int, int]:
    """Check and commit each cleaned batch, collecting the failed rows; returns (rows read, rows validated)."""
    read = validated = 0
    with contextlib.closing(batches):  # on an error, the child is stopped now, not whenever GC runs
        for batch, read in batches:
            clock.lap("wait")
            checker.check_batch(batch)
            clock.lap("check")
            for r in batch:
                if not r.ok:
                    failures.add(r)
                    result.failures.append({"row": r.number, "reason": r.reason()})
            clock.lap("failures")
            result.imported += commit_rows([r for r in batch if r.ok], org=org, kind=job.kind, job=job,
                                           actor=actor)
            validated += len(batch)
            _report(job, read=read, validated=validated, imported=result.imported)
            clock.lap("commit")
    return read, validated


def _finish(job: ImportJob, result: ImportResult, saved: Path | None, *, org: Org, actor: Actor | None,
            read: int, validated: int) -> None:
    """Mark the job succeeded with its counts and failure workbook, audit it and tell the uploader."""
    job.status = ImportStatus.SUCCEEDED
    job.rows_read, job.rows_validated = read, validated
    job.rows_imported, job.rows_failed = result.imported, result.failed
    job.failures = result.failures[:FAILURES_SHOWN]
    job.finished_at = timezone.now()
    job.retryable = False
    if saved is not None:
        with saved.open("rb") as fh:
            job.failure_file.save(f"job-{job.pk}-failures.xlsx", File(fh), save=False)
        result.failure_path = Path(job.failure_file.path)
    _delete_upload(job)  # done with it: the failure workbook carries what is left to fix
    job.save()
    record(action="import.finished", actor=actor, org=org, target=job,
           after={"file": job.file_name, "kind": job.kind, "imported": result.imported, "failed": result.failed})
    _tell_uploader(job, gettext_noop(
        "The import of %(file)s into %(org)s finished: %(imported)s imported, %(failed)s not imported."
    ), imported=result.imported, failed=result.failed)


# -- retry and the command --------------------------------------------------------------------------------

def mark_interrupted(job: ImportJob) -> bool:
    """A running job whose process is gone becomes failed and retryable (its transaction rolled back: nothing
    was imported). True when this call marked it."""
    if not is_stale(job):
        return False
    # Conditional on the attempt seen: a retry that claimed the job meanwhile is left alone.
    return bool(ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING, attempts=job.attempts).update(
        status=ImportStatus.FAILED, retryable=True, finished_at=timezone.now(),
        error_message=_("The import was interrupted (the background worker stopped), so nothing was imported."
                        " You can run it again.")))


def mark_interrupted_jobs() -> int:
    """Periodic (beat): mark every running job whose process is gone; returns how many were marked."""
    return sum(mark_interrupted(job) for job in ImportJob.objects.filter(status=ImportStatus.RUNNING))


def retry_job(*, actor: Actor | None, job: ImportJob) -> ImportJob:
    """Run a failed (or interrupted), retryable job again with the same file, audited as the admin retrying.

    The run starts once the requeue has committed, outside any transaction of the caller, so a small job's
    import is its own transaction (not a savepoint inside this one).
    """
    mark_interrupted(job)
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update(of=("self",)).select_related("org__type").get(pk=job.pk)
        if actor is not None and not may_import_into(actor, locked.org):
            raise ImportRefused(_("Only the organization's own admin (for a branch, also its direct superior admin)"
                                  " may import into it."))
        if locked.status != ImportStatus.FAILED or not locked.retryable or not locked.file:
            raise ImportRefused(_("This import cannot be run again; upload the file again instead."))
        locked.status = ImportStatus.QUEUED
        locked.error_message = ""
        locked.finished_at = None
        person = getattr(actor, "person", None) if actor is not None else None
        locked.retried_by = person if getattr(person, "pk", None) else None
        locked.retried_from = getattr(actor, "ip", None) or None
        locked.save(update_fields=["status", "error_message", "finished_at", "retried_by", "retried_from"])
        record(action="import.retry", actor=actor, org=locked.org, target=locked,
                     after={"file": locked.file_name, "attempt": locked.attempts + 1})
        transaction.on_commit(lambda: start_job(locked, actor=actor))
    locked.refresh_from_db()
    return locked


def purge_old_uploads(*, days: int | None = None) -> int:
    """Delete the kept uploads of failed jobs nobody retried within `days` (ZHTJ_IMPORT_KEEP_FAILED_DAYS, 7);
    those jobs are no longer retryable. Returns how many uploads were deleted."""
    days = days if days is not None else getattr(settings, "ZHTJ_IMPORT_KEEP_FAILED_DAYS", 7)
    cutoff = timezone.now() - timezone.timedelta(days=days)
    count = 0
    for job in ImportJob.objects.filter(status=ImportStatus.FAILED, finished_at__lt=cutoff).exclude(file=""):
        _delete_upload(job)
        job.retryable = False
        job.save(update_fields=["file", "retryable"])
        count += 1
    return count


def import_path(path: Path, *, org: Org) -> tuple[ImportJob, ImportResult | None]:
    """The command's way in: the same job, run in this process whatever the size."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    if not path.is_file():
        raise FileError(_("There is no file at %(path)s.") % {"path": path})
    size = path.stat().st_size
    if size > settings.ZHTJ_IMPORT_MAX_BYTES:
        raise FileError(too_big_message(size))
    job = create_job(actor=None, org=org, upload=SimpleUploadedFile(path.name, path.read_bytes()))
    if job.status == ImportStatus.FAILED:
        return job, None
    result = run_job(job.pk)
    job.refresh_from_db()
    return job, result


"""Running calls at the same moment in threads, for the PostgreSQL concurrency tests."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.utils import translation


def run_together(*calls: Callable[[], Any], timeout: float = 60) -> list:
    """Run each call in its own thread, released together; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            with translation.override("en"):
                barrier.wait()
                results[i] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            results[i] = exc
        finally:
            connection.close()  # each thread has its own connection; leaving it open blocks the test DB's drop

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results

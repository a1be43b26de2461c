"""Tasks besides requests that wait in an org's approvals inbox (分配团支部 after a transfer is approved).

A registry like the kinds': apps register a TaskSource at start-up; the inbox lists every source's tasks
above the requests and the header's badge counts them with the requests, in the same single query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

if TYPE_CHECKING:
    from orgs.permissions import Actor


@dataclass(frozen=True)
class TaskItem:
    """One waiting task as the inbox shows it."""

    label: Any       # what is to be done, e.g. "分配团支部"
    subject: str     # whom or what it concerns
    detail: str      # one line of context
    link: str        # where the task is done
    action: Any      # the link's words
    since: dt.datetime | None


@dataclass(frozen=True)
class TaskSource:
    code: str
    # The actor's waiting tasks as a queryset (counted in the badge's one query).
    pending: Callable[[Actor], QuerySet]
    # The same tasks ready to show, newest first.
    items: Callable[[Actor], list[TaskItem]]


TASK_SOURCES: dict[str, TaskSource] = {}


def register_task_source(source: TaskSource) -> None:
    existing = TASK_SOURCES.get(source.code)
    if existing is not None and existing != source:
        raise ValueError(f"inbox task source {source.code!r} is already registered")
    TASK_SOURCES[source.code] = source


def task_items(actor: Actor) -> list[TaskItem]:
    if actor.org is None:
        return []
    items = [item for source in TASK_SOURCES.values() for item in source.items(actor)]
    return sorted(items, key=lambda i: i.since or dt.datetime.min.replace(tzinfo=dt.UTC), reverse=True)

"""Celery task outcomes as ``kuasheng_celery_tasks_total{task, outcome}`` (spec/operations.md
§Observability), counted from Celery's signals in whichever process runs the task (the worker, or
the web process when tasks run eagerly)."""
from __future__ import annotations

from typing import Any

from celery import signals

from core import metrics


def _name(sender: Any) -> str:
    return getattr(sender, "name", None) or str(sender or "unknown")


def _success(sender: Any = None, **_: Any) -> None:
    metrics.task_outcome_recorded(task=_name(sender), outcome="success")


def _failure(sender: Any = None, **_: Any) -> None:
    metrics.task_outcome_recorded(task=_name(sender), outcome="failure")


def _retry(sender: Any = None, **_: Any) -> None:
    metrics.task_outcome_recorded(task=_name(sender), outcome="retry")


def _revoked(sender: Any = None, request: Any = None, **_: Any) -> None:
    metrics.task_outcome_recorded(task=_name(sender) if sender else getattr(request, "task", "unknown"),
                                  outcome="revoked")


def connect_task_signals() -> None:
    """Idempotent (``dispatch_uid``): connecting twice counts once."""
    signals.task_success.connect(_success, dispatch_uid="kuasheng.metrics.success", weak=False)
    signals.task_failure.connect(_failure, dispatch_uid="kuasheng.metrics.failure", weak=False)
    signals.task_retry.connect(_retry, dispatch_uid="kuasheng.metrics.retry", weak=False)
    signals.task_revoked.connect(_revoked, dispatch_uid="kuasheng.metrics.revoked", weak=False)

"""Celery app. Eager when ``CELERY_BROKER_URL`` is unset (embedded default)."""
import os

from celery import Celery
from celery.schedules import crontab
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("kuasheng")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Queues (docs/scaling.md §Celery queues): the close never waits behind periodic work, the audit
# sealer (every 5 s) never waits behind a close, deny lists and other periodic jobs have their own.
# A worker started without -Q consumes all four (the embedded demo's); production runs one worker
# per queue, e.g. `celery -A config worker -Q close --concurrency 1` (the close folds on all cores).
QUEUES = ("close", "audit", "periodic", "default")
app.conf.task_queues = [Queue(name, routing_key=name) for name in QUEUES]
app.conf.task_default_queue = "default"
app.conf.task_routes = {
    "clearing.tasks.close_*": {"queue": "close"},
    "core.tasks.seal_audit": {"queue": "audit"},
    "*.tasks.*deny*": {"queue": "periodic"},
    "*.tasks.periodic_*": {"queue": "periodic"},
    "core.tasks.purge_durable": {"queue": "periodic"},
}

# spec/clearing.md §Cycles: the close job runs at 00:30 Asia/Shanghai (CELERY_TIMEZONE), closing
# every cut cycle oldest first. Beat sends it every 5 minutes (00:30 included); each run closes only
# cycles whose close time has passed, so a close a killed worker left ``cut`` resumes at the next
# run instead of waiting for the broker's redelivery. A run not started within 4 minutes expires.
app.conf.beat_schedule = {
    "close-cut-cycles": {
        "task": "clearing.tasks.close_cut_cycles",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 240},
    },
    "seal-audit": {"task": "core.tasks.seal_audit", "schedule": 5.0},
    "purge-durable": {"task": "core.tasks.purge_durable", "schedule": 60.0},
    # spec/cards.md §Deny lists: lapse temporary losses, hourly heartbeat (the job is idempotent)
    "deny-list-tick": {"task": "cards.tasks.deny_list_tick", "schedule": 60.0},
    # docs/scaling.md §Declarative partitioning: the items' monthly partitions, 3 months ahead
    "partitions-ahead": {"task": "clearing.tasks.periodic_partitions_ahead", "schedule": crontab(minute=7)},
}

"""Celery app. Eager when ``CELERY_BROKER_URL`` is unset (embedded default)."""
import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("kuasheng")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# spec/clearing.md §Cycles: the close job runs at 00:30 Asia/Shanghai (CELERY_TIMEZONE), closing
# every cut cycle oldest first.
app.conf.beat_schedule = {
    "close-cut-cycles": {"task": "clearing.tasks.close_cut_cycles", "schedule": crontab(hour=0, minute=30)},
    "seal-audit": {"task": "core.tasks.seal_audit", "schedule": 5.0},
}

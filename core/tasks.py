"""Platform tasks."""
from celery import shared_task

from core.audit import audit_seal


@shared_task(name="core.tasks.seal_audit", ignore_result=True)
def seal_audit() -> int:
    """Seal committed audit records (beat: every 5 s)."""
    return audit_seal()


@shared_task(name="core.tasks.purge_durable", ignore_result=True)
def purge_durable() -> int:
    """Delete expired nonces and sign-in attempt windows (beat: every minute)."""
    from core.durable import durable_purge

    return durable_purge()

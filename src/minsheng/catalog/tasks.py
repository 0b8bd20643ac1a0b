"""Background import of a big uploaded catalogue file (small ones are imported in the request)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django_tasks import task

from minsheng.catalog import importer
from minsheng.core.models import User


@task()
def import_upload(job_id: int, path: str, user_id: int | None, valid_only: bool) -> dict[str, Any]:
    user = User.objects.filter(pk=user_id).first() if user_id is not None else None
    try:
        report = importer.import_file(path, user=user, valid_only=valid_only, job_id=job_id)
    finally:
        # The upload was only parked for the worker; the job row keeps the report.
        Path(path).unlink(missing_ok=True)
    return report.as_dict()

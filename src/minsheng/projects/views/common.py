"""What every staff page of 实事项目 shares: the user, the project lookup (another unit's
project is a 404, ids guessed or not), error messages and protected file downloads."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import FileResponse, Http404, HttpRequest
from django.utils.translation import gettext as _

from minsheng.core import audit, policy
from minsheng.core.models import User
from minsheng.projects.errors import ProjectError
from minsheng.projects.models import Project, StoredFile

PAGE_SIZE = 30


def staff_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    if not user.is_staff_member:
        raise PermissionDenied("staff only")
    return user


def project_or_404(user: User, pk: int, action: str = "projects.view") -> Project:
    return policy.get_object(
        user,
        Project.objects.select_related("batch", "category", "lead_unit", "closed_by"),
        action,
        pk=pk,
    )


def say(request: HttpRequest, error: ProjectError) -> None:
    messages.error(request, error.message)


def add_errors(form: Any, error: ProjectError) -> None:
    """Put the action's per-field messages on the form, the rest above it."""
    placed = False
    for name, errors in error.fields.items():
        # The actions name a target's value "values.<id>"; the form asks it as "target_<id>".
        field = "target_" + name.removeprefix("values.") if name.startswith("values.") else name
        if field in form.fields:
            for message in errors:
                form.add_error(field, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def stored_file_response(
    user: User, project: Project, item: StoredFile, owner: Model
) -> FileResponse:
    """Files only through here (never a /media/ URL): the project's 404 first, and a trace
    of who opened which file."""
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("附件文件不存在")) from None
    audit.record(
        user,
        "projects.file_opened",
        project,
        after={"file": item.pk, "of": owner._meta.label_lower, "id": owner.pk},
    )
    response = FileResponse(
        handle,
        content_type=item.content_type,
        # Images open in the browser; anything else is saved, never rendered by it.
        as_attachment=not item.content_type.startswith("image/"),
        filename=item.original_name,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response

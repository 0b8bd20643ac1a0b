"""The ``minsheng`` command: Django's manage.py with the project's settings preset.

``minsheng serve`` runs the development server (or gunicorn with ``--gunicorn``),
``minsheng worker`` the background worker, ``minsheng demo`` loads the demo county; every
other Django or project management command works too (``minsheng migrate``,
``minsheng check --deploy``, ``minsheng audit verify``...).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["minsheng", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()

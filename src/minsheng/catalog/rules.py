"""Catalogue actions and who may take them (see ``core.policy``).

Reading the catalogue is public (citizens, kiosks, the API without a token); only the
admin edits, imports and exports it, because the 办事指南 is what the county publishes.
"""

from __future__ import annotations

from minsheng.core.models.org import Role
from minsheng.core.policy import register

R = Role

register(
    {
        "catalog.edit": {R.ADMIN},
        "catalog.import": {R.ADMIN},
        "catalog.export": {R.ADMIN, R.SUPERVISOR, R.LEADER},
    }
)

"""Embedded PostgreSQL (the `pgserver` package) with its data under the carbonflow home.

`start()` gives the URL of its superuser, which runs the migrations and so owns the tables; `app_url()` that
of `APP_ROLE`, a plain login role for the services, which owns nothing (carbonflow/db/roles.py).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

__all__ = ["EmbeddedPostgres"]

APP_ROLE = "carbonflow_app"


class EmbeddedPostgres:
    """A PostgreSQL server owned by this process; stopped by `stop()` or at exit."""

    APP_ROLE = APP_ROLE

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._server: Any = None

    def start(self) -> str:
        """Start (or reuse) the server and return its connection URL."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver  # imported late: only the demo needs it

            self.data_dir.parent.mkdir(parents=True, exist_ok=True)
            self._server = pgserver.get_server(self.data_dir, cleanup_mode="stop")
        return str(self._server.get_uri())

    def app_url(self) -> str:
        """The started server's URL for the application role, created here when missing (the server trusts
        its local socket, so the role needs no password). Migrate with `app_role=APP_ROLE` to grant it its
        privileges."""
        from carbonflow.db.connect import connect_with_retry
        from carbonflow.db.roles import ensure_login_role, with_role

        if self._server is None:
            raise RuntimeError("embedded PostgreSQL: start() it before asking for the application role's URL")
        owner = str(self._server.get_uri())
        with connect_with_retry(owner, autocommit=True) as conn:
            ensure_login_role(conn, APP_ROLE)
        return with_role(owner, APP_ROLE)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None

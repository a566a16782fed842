"""Database access shared by the stream jobs and the API: connections, migrations and the two roles."""

from carbonflow.db.connect import async_connect_with_retry, connect_with_retry
from carbonflow.db.migrate import migrate, timescale_available
from carbonflow.db.roles import DatabaseRoleError, ensure_login_role, grant_app_role, role_of, with_role

__all__ = ["connect_with_retry", "async_connect_with_retry", "migrate", "timescale_available", "DatabaseRoleError",
           "ensure_login_role", "grant_app_role", "role_of", "with_role"]

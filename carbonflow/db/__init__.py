"""Database access shared by the stream jobs and the API: connections and migrations."""

from carbonflow.db.connect import async_connect_with_retry, connect_with_retry
from carbonflow.db.migrate import migrate, timescale_available

__all__ = ["connect_with_retry", "async_connect_with_retry", "migrate", "timescale_available"]

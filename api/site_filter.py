"""The filter every service's queries put on rows by site: all of them, or only those of the caller's sites."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["IN_SITES", "site_list"]

# `sites` arguments: None for every site (and rows without one), else only rows of those sites
IN_SITES = "(%(sites)s::text[] IS NULL OR {column} = ANY(%(sites)s::text[]))"


def site_list(sites: Sequence[str] | None) -> list[str] | None:
    """The `sites` parameter of `IN_SITES`."""
    return None if sites is None else list(sites)

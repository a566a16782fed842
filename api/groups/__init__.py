"""Enterprise groups (集团): named sets of member enterprises that can hold a carbon target (issue 21).

`router` is the HTTP surface (/api/v1/groups), `queries` the storage (migration 142), `scope` who sees which group,
`schemas` the request body. docs/targets.md describes groups and their targets.
"""

from api.groups.router import router

__all__ = ["router"]

"""The 碳效码 (carbon efficiency code) service: its versioned configuration and its stored results.

`router` is the HTTP surface (/api/v1/efficiency-code), `queries` the storage (migrations 110 and 111),
`schemas` the request and response models. The computation is `carbon_domain.efficiency_code`.
"""

from api.efficiency_code.router import router

__all__ = ["router"]

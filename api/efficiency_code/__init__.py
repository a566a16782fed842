"""The 碳效码 (carbon efficiency code) service: its versioned configuration, codes computed from the monitoring
figures, carbon accounts, government views and certificates.

`router` is the HTTP surface (/api/v1/efficiency-code): `router.py` the configuration versions and stored
results (administrators), `account_router.py` computation jobs, accounts, distributions, the watch list, exports
and certificates. `queries` is the storage (migrations 110 to 113), `compute` the computation from the monitoring
figures, `account` the views' assembly, `certificate` the PDF. The formulas are `carbon_domain.efficiency_code`
and `carbon_domain.carbon_account`.
"""

from fastapi import APIRouter

from api.efficiency_code.account_router import router as _accounts
from api.efficiency_code.router import router as _configs

router = APIRouter()
router.include_router(_configs)
router.include_router(_accounts)

__all__ = ["router"]

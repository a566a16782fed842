"""Who may do what: roles, their permissions and data scopes, and the authenticated caller.

A request is allowed when its permission is in the caller's role (and, for a
machine token, in the token's scopes). What it then sees is cut down to the
caller's scope: the sites of the enterprises the caller may see.

=========== ============================================== ======================================
role        permissions                                    data scope
=========== ============================================== ======================================
admin       everything (incl. audit, users, benchmarks,    all sites
            hierarchy, efficiency_code)
technician  health, devices, gateways, live, series,       all sites
            alarms, alarm_actions, ingest, point_ranges,
            gateway_registry
government  devices, live, series, emissions, alarms       enterprises whose region is the user's
                                                           region or a sub-region (CN-ZJ: CN-ZJ-HZ)
enterprise  devices, live, series, emissions, alarms,      its one enterprise
            alarm_actions
auditor     devices, live, series, emissions, alarms       the enterprises assigned to the auditor
=========== ============================================== ======================================

Dashboards: the overview needs 'emissions' (its live power also 'live'), device health 'devices',
the CSV export 'series', and setting a site's intensity benchmark 'benchmarks' (administrators).

Alarms: 'alarms' lists the alarms of the sites in scope; 'alarm_actions' acknowledges and manually clears
them (technicians on every site, an enterprise user on its own sites, administrators); governments and
auditors only watch. 'hierarchy' creates, changes and deletes enterprises, sites, devices and point bindings
(administrators). 'ingest' posts gateway envelopes over HTTP (POST /api/v1/ingest); it is meant for machine
tokens of technicians and administrators. 'point_ranges' sets a point's measurement range by hand (the limits the
out_of_range alarm checks) and a counter's rise limit, and accepts an implausible counter rise after checking the
meter: technicians, who commission and calibrate the instruments, and administrators; not the enterprise, so a
plant cannot widen a range to silence its own alarm or decide which of its own readings count.
'gateway_registry' registers and revokes gateways and downloads a certificate gateway's key bundle
(technicians, who commission the gateways, and administrators); 'gateways' alone only lists them.
'efficiency_code' stores and activates 碳效码 configuration versions and reads the stored codes (administrators).
'efficiency_code_view' reads the carbon accounts, grade distributions, watch list and exports of the units in scope
(government: its region; enterprise: its own units) and issues certificates; 'efficiency_code_compute' starts a
computation of codes from the monitoring figures (government, administrators).

Monitoring (api/monitoring/): 'monitoring' reads the region, industry and unit views; 'monitoring_data' maintains
emission units and imports or pushes their monthly figures; 'monitoring_review' dismisses or confirms anomaly
reminders; 'monitoring_sync' configures, runs and rewinds the intermediate-database sync sources
(administrators). A government user's region is a platform label (CN-ZJ) or a GB/T 2260 code (330500) and covers
its sub-regions; an enterprise user sees and reports the units linked to its enterprise; the region scope is the same
`Scope.regions`, read against the monitoring region tree.

Enterprise groups (api/groups/; docs/targets.md): 'monitoring' reads the groups in scope (a government user those
whose members are all in its region, an enterprise user those it belongs to); creating one needs 'monitoring_data'
and the government (members in its region) or administrator role, as setting a group's targets does.

Projects and assets (api/projects/, api/assets/; docs/projects.md): 'projects' reads the projects in scope (an
auditor only those it is assigned to verify) and, for enterprises and administrators, changes their own;
'project_verify' verifies or refuses a submitted period (auditors); 'assets' reads holdings, the ledger and the
compliance position in scope, enterprises trade their own and government users allocate allowances;
'asset_alarms' runs the asset alarm check (projected deficits, deadline reminders) now (government users).
'target_alarms' runs the target off-track alarm check now (government users; docs/targets.md).

GHG inventory (api/accounting/): 'activity_data' enters an enterprise's activity data (the online form and the
CSV/XLSX upload) for the enterprises in scope: the enterprise itself, and administrators; reading the inventory
and the reports needs 'emissions'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "ROLE_PERMISSIONS",
    "Permission",
    "Principal",
    "Role",
    "Scope",
    "scope_of",
    "scope_problem",
]

Role = Literal["government", "enterprise", "auditor", "technician", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
# every permission on its own line with the roles that hold it (administrators hold all of them)
_GRANTS: dict[str, tuple[str, ...]] = {
    "health": ("technician",),
    "devices": ("technician", "government", "enterprise", "auditor"),
    "gateways": ("technician",),
    "live": ("technician", "government", "enterprise", "auditor"),
    "series": ("technician", "government", "enterprise", "auditor"),
    "emissions": ("government", "enterprise", "auditor"),
    "audit": (),
    "users": (),
    "benchmarks": (),
    "alarms": ("technician", "government", "enterprise", "auditor"),
    "alarm_actions": ("technician", "enterprise"),
    "hierarchy": (),
    "ingest": ("technician",),
    "point_ranges": ("technician",),
    "efficiency_code": (),
    "monitoring": ("government", "enterprise"),
    "monitoring_data": ("government", "enterprise"),
    "monitoring_review": ("government",),
    "monitoring_sync": (),
    "projects": ("government", "enterprise", "auditor"),
    "project_verify": ("auditor",),
    "assets": ("government", "enterprise"),
    "asset_alarms": ("government",),
    "target_alarms": ("government",),
    "grid_factors": ("government",),
    "activity_data": ("enterprise",),
    "gateway_registry": ("technician",),
    "efficiency_code_view": ("government", "enterprise"),
    "efficiency_code_compute": ("government",),
}
Permission = Literal["health", "devices", "gateways", "live", "series", "emissions", "audit", "users", "benchmarks",
                     "alarms", "alarm_actions", "hierarchy", "ingest", "point_ranges", "efficiency_code",
                     "monitoring", "monitoring_data", "monitoring_review", "monitoring_sync", "projects",
                     "project_verify", "assets",
                     "asset_alarms", "target_alarms", "grid_factors", "activity_data", "gateway_registry", "efficiency_code_view",
                     "efficiency_code_compute"]
PERMISSIONS: tuple[str, ...] = get_args(Permission)
if set(PERMISSIONS) != set(_GRANTS):
    raise ImportError(f"permissions without grants or grants without a permission: {set(PERMISSIONS) ^ set(_GRANTS)}")
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    **{role: frozenset(p for p, roles in _GRANTS.items() if role in roles)
       for role in ("technician", "government", "enterprise", "auditor")},
}


@dataclass(frozen=True)
class Scope:
    """The enterprises a caller may see: all, or those in `regions` or named in `enterprises`."""

    all: bool = False
    regions: tuple[str, ...] = ()
    enterprises: tuple[str, ...] = ()


def scope_of(role: str, *, region: str | None, enterprise_id: str | None, assigned: tuple[str, ...]) -> Scope:
    """The data scope of a user; an unassigned scoped user sees nothing."""
    if role in ("admin", "technician"):
        return Scope(all=True)
    if role == "government":
        return Scope(regions=(region,) if region else ())
    if role == "enterprise":
        return Scope(enterprises=(enterprise_id,) if enterprise_id else ())
    return Scope(enterprises=assigned)


def scope_problem(role: str, *, region: str | None, enterprise_id: str | None, enterprises: tuple[str, ...]) -> str | None:
    """Why a scope does not fit a role (each role takes exactly its own kind of scope), or None."""
    given = {name for name, value in (("region", region), ("enterprise_id", enterprise_id),
                                      ("enterprises", enterprises)) if value}
    allowed = {"government": {"region"}, "enterprise": {"enterprise_id"}, "auditor": {"enterprises"}}.get(role, set())
    if given - allowed:
        fits = " and ".join(sorted(allowed)) if allowed else "no scope (it sees every site)"
        return f"role {role!r} takes {fits}; remove {', '.join(sorted(given - allowed))}"
    if role == "government" and not region:
        return "role 'government' needs a region (e.g. CN-ZJ)"
    if role == "enterprise" and not enterprise_id:
        return "role 'enterprise' needs an enterprise_id"
    return None


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request: a user through a session, or a machine token."""

    user_id: int
    username: str
    role: str
    scope: Scope
    permissions: frozenset[str]
    via: Literal["session", "token"]
    credential_id: int
    expires_at: datetime
    # how the user logged in for this credential: 'password' credentials follow the password rules (a change
    # due refuses them, a change or reset revokes them); 'sso' and 'certificate' ones do not rest on it
    auth_method: Literal["password", "sso", "certificate"] = "password"
    must_change_password: bool = False
    password_expires_at: datetime | None = None
    region: str | None = None
    enterprise_id: str | None = None
    enterprises: tuple[str, ...] = ()
    token_name: str | None = None
    cert_common_name: str | None = None  # a certificate login's token: the CN (gateway) it may ingest for

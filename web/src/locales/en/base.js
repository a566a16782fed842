// The core pages' texts (plant, alarms, administration).
export default {
  "app": {
    "title": "carbonflow",
    "tagline": "Industrial carbon platform"
  },
  "lang": {
    "switch": {
      "label": "中文",
      "title": "切换到中文"
    },
    "label": "Language"
  },
  "nav": {
    "group": {"plant": "Plant", "accounting": "Accounting", "government": "Government", "admin": "Administration"},
    "overview": "Plant overview",
    "series": "Series explorer",
    "devices": "Device health",
    "logout": "Log out",
    "menu": "Menu",
    "noPages": "Your role has no page in the web app yet.",
    "alarms": "Alarms",
    "gateways": "Gateways",
    "audit": "Audit log",
    "users": "Users and roles",
    "tokens": "API tokens"
  },
  "login": {
    "heading": "Sign in",
    "intro": "Log in to see the plants you are responsible for.",
    "username": "User name",
    "password": "Password",
    "totp": {
      "label": "Authenticator code (6 digits)",
      "hint": "This account uses two-step verification: enter the code your authenticator app shows."
    },
    "submit": "Log in",
    "ended": "Your session has ended; please log in again.",
    "loggedout": "You have logged out.",
    "sso": "Sign in with SSO"
  },
  "password": {
    "heading": "Choose a new password",
    "intro": "At least 12 characters with three of lower case, upper case, digits and symbols, not one of your last 5.",
    "current": "Current password",
    "new": "New password",
    "repeat": "New password again",
    "submit": "Change password",
    "differ": "The two new passwords differ."
  },
  "problem": {
    "400": "Bad request",
    "401": "Not authenticated",
    "403": "Not allowed",
    "404": "Not found",
    "409": "Conflicts with the current state",
    "410": "Gone",
    "413": "File or content too large",
    "415": "Unsupported file type",
    "422": "Invalid input",
    "423": "Locked",
    "429": "Too many requests; try again shortly",
    "500": "Server error",
    "502": "An upstream service is unavailable",
    "503": "Service unavailable; try again shortly",
    "other": "Request failed ({status})"
  },
  "common": {
    "site": "Site",
    "loading": "Loading…",
    "none": "—",
    "refresh": "Refresh",
    "updated": "Updated {time}",
    "noData": "No data in this range.",
    "error": "Could not load: {message}",
    "notAllowed": "Your role does not include this page.",
    "noSites": "No site is visible to you.",
    "share": "Share",
    "total": "Total",
    "unit": "Unit",
    "device": "Device",
    "point": "Point",
    "value": "Value",
    "quality": "Quality",
    "time": "Time",
    "process": "Process",
    "source": "Source",
    "chartsOff": "Charts could not be loaded; the figures are shown as tables."
  },
  "live": {
    "connected": "Live",
    "connecting": "Connecting…",
    "offline": "Reconnecting…",
    "polling": "Updating every 10 s"
  },
  "overview": {
    "title": "Plant overview",
    "subtitle": "{site} · {day} ({tz})",
    "power": {
      "label": "Live power",
      "sub": "{n} meters · as of {time}",
      "none": "No power reading in the last 10 minutes",
      "na": "Not included for your role"
    },
    "co2": {
      "label": "CO₂ today",
      "sub": "{n} sources · since 00:00"
    },
    "production": {
      "label": "Crude steel today",
      "sub": "From the production counter",
      "none": "No production counter"
    },
    "intensity": {
      "label": "CO₂ intensity",
      "unit": "tCO₂/t crude steel"
    },
    "benchmark": {
      "label": "Benchmark {value}",
      "none": "No benchmark set for this site",
      "above": "▲ {pct} above",
      "below": "▼ {pct} below"
    },
    "alarms": {
      "label": "Active alarms",
      "none": "No active alarms",
      "sub": "At this site"
    },
    "byProcess": "CO₂ today by process",
    "bySource": "CO₂ today by source",
    "trend": {
      "label": "Live power",
      "sub": "Last 60 minutes, kW"
    },
    "vsBenchmark": {
      "label": "Intensity vs benchmark",
      "value": "Today",
      "benchmark": "Benchmark"
    },
    "meters": "Power meters",
    "alarmList": "Alarms",
    "factors": {
      "label": "Emission factors used today: {list}",
      "none": "No emissions recorded today yet."
    },
    "benchmarkSource": "Benchmark source: {source}",
    "noCo2": "No emissions recorded today yet.",
    "alarm": {
      "message": "Message",
      "since": "Since",
      "severity": "Severity"
    },
    "compare": {
      "label": "CO₂ this month to date",
      "sub": "tCO₂ against the same span of last month (MoM) and of this month last year (YoY)",
      "current": "This month",
      "mom": "Last month, same span",
      "momChange": "MoM",
      "yoy": "Last year, same span",
      "yoyChange": "YoY",
      "noBase": "no base",
      "none": "No emissions this month or in the base periods yet.",
      "spans": "This month {current}; last month {mom}; last year {yoy}"
    }
  },
  "severity": {
    "info": "Info",
    "warning": "Warning",
    "critical": "Critical"
  },
  "series": {
    "title": "Series explorer",
    "subtitle": "Raw readings or buckets of one point, with CSV export",
    "device": "Device",
    "point": "Point",
    "range": {
      "label": "Range",
      "1h": "1 h",
      "6h": "6 h",
      "24h": "24 h",
      "7d": "7 d",
      "30d": "30 d",
      "1y": "1 year",
      "custom": "Custom"
    },
    "from": "From",
    "to": "To",
    "interval": {
      "label": "Interval",
      "raw": "Raw",
      "1m": "1 min",
      "1h": "1 h",
      "1d": "1 day",
      "1mo": "1 month"
    },
    "export": {
      "label": "Export CSV",
      "hint": "Hourly buckets (or the chosen interval) with factor versions in the header"
    },
    "exporting": "Exporting…",
    "rawTooLong": "Raw readings are limited to 7 days; choose 1 min, 1 h or 1 day.",
    "stats": {
      "count": "Points",
      "min": "Minimum",
      "max": "Maximum",
      "mean": "Mean",
      "last": "Latest"
    },
    "table": "Data table",
    "noPoints": "This device has no points yet.",
    "noDevices": "No device is visible to you.",
    "band": "Min–max",
    "status": "{kind} · {interval}",
    "pickPoint": "Pick a point"
  },
  "devices": {
    "title": "Device health",
    "subtitle": "Last contact and readings by quality",
    "window": {
      "label": "Window",
      "1": "Last hour",
      "24": "Last 24 h",
      "168": "Last 7 days"
    },
    "status": "Status",
    "site": "Site",
    "gateway": "Gateway",
    "lastSeen": "Last seen",
    "readings": "Readings by quality",
    "points": "Points",
    "good": "Good",
    "uncertain": "Uncertain",
    "bad": "Bad",
    "goodShare": "Good readings",
    "none": "No device is visible to you.",
    "lastValue": "Last value",
    "showPoints": "Show points",
    "gateways": "Gateways",
    "backlog": "Spool backlog",
    "oldestUnsent": "Oldest unsent (s)",
    "dropped": "Dropped (overflow)",
    "agent": "Agent",
    "noGateways": "No gateway is visible to you."
  },
  "status": {
    "online": "Online",
    "stale": "Delayed",
    "offline": "Offline",
    "never": "Never seen",
    "unreported": "No status report"
  },
  "quality": {
    "good": "Good",
    "uncertain": "Uncertain",
    "bad": "Bad"
  },
  "ago": {
    "s": "{n} s ago",
    "m": "{n} min ago",
    "h": "{n} h ago",
    "d": "{n} d ago",
    "never": "never"
  },
  "term": {
    "steelmaking": "Steelmaking",
    "rolling": "Rolling",
    "auxiliary": "Auxiliary",
    "sintering": "Sintering",
    "pelletising": "Pelletising",
    "coking": "Coking",
    "ironmaking": "Ironmaking",
    "unassigned": "Unassigned",
    "electricity": "Purchased electricity",
    "heat": "Purchased heat",
    "natural_gas": "Natural gas",
    "coke_oven_gas": "Coke-oven gas",
    "blast_furnace_gas": "Blast-furnace gas",
    "converter_gas": "Converter gas",
    "anthracite": "Anthracite",
    "bituminous_coal": "Bituminous coal",
    "coke": "Coke",
    "diesel": "Diesel",
    "fuel_oil": "Fuel oil",
    "crude_steel": "Crude steel",
    "power_plant": "Power plant",
    "site": "Site-wide",
    "steam": "Steam",
    "production": "Production"
  },
  "role": {
    "government": "Government reviewer",
    "enterprise": "Enterprise",
    "auditor": "Auditor",
    "technician": "Technician",
    "admin": "Administrator"
  },
  "kind": {
    "gauge": "Instantaneous",
    "counter": "Cumulative"
  },
  "form": {
    "cancel": "Cancel",
    "save": "Save",
    "close": "Close",
    "tooLong": "At most {n} characters."
  },
  "alarms": {
    "title": "Alarms",
    "subtitle": "Acknowledge, clear by hand, and set the range a point is checked against",
    "acknowledged": "Alarm {id} acknowledged.",
    "cleared": "Alarm {id} cleared.",
    "state": "State",
    "states": {
      "active": "Active",
      "cleared": "Cleared",
      "all": "All"
    },
    "allSites": "All sites",
    "rule": "Rule",
    "allRules": "All rules",
    "none": "No alarm matches these filters.",
    "raised": "Raised",
    "acknowledgedBy": "Acknowledged",
    "notAcknowledged": "Not yet",
    "clearedBy": "Cleared",
    "byRule": "By its rule",
    "platform": "Platform alarm",
    "enterpriseOf": "Enterprise {id}",
    "regionOf": "Region {code}",
    "actions": "Actions",
    "acknowledge": "Acknowledge",
    "clear": "Clear",
    "clearTitle": "Clear the alarm by hand",
    "comment": "Why it is cleared",
    "commentNeeded": "Say why the alarm is cleared (it is kept with the alarm and in the audit log)."
  },
  "rule": {
    "device_offline": "Device offline",
    "bad_data": "Bad readings",
    "stuck_value": "Value stuck",
    "counter_reset": "Counter went backwards",
    "data_gap": "Data gap",
    "out_of_range": "Out of range",
    "implausible_reading": "Implausible reading",
    "cems_calibration": "CEMS calibration",
    "spool_overflow": "Gateway spool overflow",
    "gateway_offline": "Gateway offline",
    "monitoring_sync_failed": "Intermediate-database sync failed",
    "monitoring_job_failed": "Monitoring job failed (recompute or metered months)",
    "deficit_projected": "Allowance deficit projected",
    "compliance_deadline": "Compliance or trading deadline ahead",
    "target_off_track": "Target holder off track",
    "two_high_exceeded": "Two-high project over its approved energy or CO2"
  },
  "implausible": {
    "title": "Implausible counter readings",
    "subtitle": "Stored as bad and not counted: negative, or rising faster than the point's limit. A rise is accepted after the meter was checked; its hours are then recomputed.",
    "states": {
      "open": "Open",
      "accepted": "Accepted",
      "all": "All"
    },
    "none": "No implausible reading.",
    "reason": "Reason",
    "reasons": {
      "negative": "Negative",
      "rise": "Rose too fast"
    },
    "accept": "Accept rise",
    "accepted": "Reading {id} accepted (and {n} later ones with it); its hours will be recomputed.",
    "acceptTitle": "Accept the rise",
    "rise": "From {from} to {to} {unit}; limit {limit} {unit} per hour",
    "comment": "What was checked",
    "commentNeeded": "Say what was checked: why the rise is real."
  },
  "ranges": {
    "open": "Range",
    "title": "Measurement range",
    "now": "Now {low} to {high} {unit}",
    "sources": {
      "manual": "set by hand",
      "profile": "from the device profile",
      "none": "the profile gives none",
      "default": "default",
      "pending": "not looked at yet"
    },
    "low": "Low limit ({unit})",
    "high": "High limit ({unit})",
    "riseNow": "Rise limit {value} {unit} per hour",
    "rise": "Rise limit ({unit} per hour)",
    "saveRise": "Save rise limit",
    "readOnly": "Your role can read the range; technicians and administrators set it.",
    "saved": "Saved.",
    "resetDone": "Back to the device profile's range.",
    "reset": "Reset to profile",
    "notNumber": "Enter a number, or leave empty for no limit.",
    "oneSide": "Give a low limit, a high limit or both.",
    "lowBelowHigh": "The low limit must be below the high limit.",
    "risePositive": "The rise limit must be a number above 0."
  },
  "audit": {
    "title": "Audit log",
    "subtitle": "Who did what, to what, when and from where",
    "actor": "User",
    "actorHint": "User name",
    "action": "Action",
    "span": "Time range",
    "search": "Search",
    "reset": "Clear filters",
    "actionPattern": "An action such as user.create, or a family such as auth.*",
    "newest": "The newest {n} entries; narrow the filters or export CSV for all.",
    "count": "{n} entries",
    "none": "No entry matches these filters.",
    "viaToken": "through token {id}",
    "kinds": {
      "user": "Signed in",
      "token": "Machine token",
      "system": "System",
      "anonymous": "Not signed in"
    },
    "target": "Target",
    "outcome": "Outcome",
    "outcomes": {
      "ok": "Done",
      "denied": "Denied",
      "rejected": "Rejected"
    },
    "ip": "Address",
    "change": "Details"
  },
  "secret": {
    "once": "This is shown once: store it now. It cannot be shown again.",
    "copied": "Copied",
    "copy": "Copy",
    "stored": "I have stored it"
  },
  "users": {
    "title": "Users and roles",
    "subtitle": "Accounts, their roles and what each one sees",
    "create": "New user",
    "scopeTitle": "What {name} sees",
    "usernamePattern": "3 to 64 characters: lower-case letters, digits, dot, underscore, at sign or hyphen, starting with a letter or digit.",
    "regionNeeded": "A government reviewer needs a region code, e.g. CN-ZJ.",
    "enterpriseNeeded": "An enterprise user needs its enterprise's id.",
    "enterprisesPattern": "Enterprise ids separated by commas (letters, digits, dot, underscore, hyphen).",
    "username": "User name",
    "role": "Role",
    "password": "Password",
    "passwordHint": "Leave empty for a generated one-time password",
    "region": "Region",
    "enterprise": "Enterprise",
    "enterprises": "Assigned enterprises",
    "enterprisesHint": "Enterprise ids, separated by commas",
    "noScope": "This role sees every site.",
    "filter": "Filter by name or role",
    "unassigned": "Not assigned yet",
    "everything": "Every site",
    "oneTimeTitle": "One-time password",
    "oneTime": "{name} signs in with this password once and then chooses a new one.",
    "scopeSaved": "What {name} sees is changed.",
    "created": "User {name} created.",
    "enabled": "{name} enabled.",
    "disabledDone": "{name} disabled: its sessions have ended and its tokens stopped working.",
    "passwordReset": "Password of {name} reset.",
    "scope": "Sees",
    "disabled": "Disabled",
    "active": "Active",
    "mustChange": "Must change password",
    "totp": "Two-step verification",
    "createdAt": "Created",
    "editScope": "Scope",
    "resetPassword": "Reset password",
    "enable": "Enable",
    "disable": "Disable",
    "resetTitle": "Reset the password of {name}",
    "resetNote": "The user must change it at the next sign-in; its sessions end now."
  },
  "tokens": {
    "title": "API tokens",
    "subtitle": "Tokens for machines (an ERP export, a script) that call the API as you",
    "nameNeeded": "Name the token after what uses it.",
    "scopesNeeded": "Choose at least one permission.",
    "created": "Token {name} created.",
    "secretTitle": "The new token",
    "secretLabel": "Send it as \"Authorization: Bearer …\" from {name}.",
    "revoked": "Token {name} revoked.",
    "create": "New token",
    "none": "You have no token.",
    "name": "Name",
    "nameHint": "e.g. ERP export",
    "scopes": "Permissions",
    "states": {
      "active": "Active",
      "revoked": "Revoked",
      "expired": "Expired"
    },
    "expires": "Expires",
    "lastUsed": "Last used",
    "revokeAsk": "Revoke {name}? Machines using it stop working.",
    "revoke": "Revoke",
    "days": "Valid for (days)"
  },
  "permission": {
    "health": "Health check",
    "devices": "Devices",
    "gateways": "Gateways",
    "live": "Live values",
    "series": "Series",
    "emissions": "Emissions",
    "audit": "Audit log",
    "users": "Users",
    "benchmarks": "Benchmarks",
    "alarms": "Alarms",
    "alarm_actions": "Alarm handling",
    "hierarchy": "Enterprises and sites",
    "ingest": "Data intake",
    "point_ranges": "Point ranges",
    "efficiency_code": "Carbon efficiency code",
    "monitoring": "Monitoring",
    "monitoring_data": "Monitoring data",
    "monitoring_review": "Monitoring review",
    "monitoring_sync": "Intermediate-database sync",
    "grid_factors": "Electricity-carbon factors",
    "projects": "Reduction projects",
    "project_verify": "Project verification",
    "assets": "Carbon assets",
    "asset_alarms": "Carbon asset alarm check",
    "target_alarms": "Target off-track alarm check",
    "activity_data": "Activity data entry",
    "gateway_registry": "Gateway registry",
    "efficiency_code_view": "Carbon accounts and codes",
    "efficiency_code_compute": "Computing carbon efficiency codes"
  },
  "gateways": {
    "title": "Gateway registry",
    "subtitle": "Edge gateways, their last contact and the devices they serve",
    "deviceNeeded": "Choose the device to move.",
    "gatewayNeeded": "Choose the gateway it moves to.",
    "moved": "{device} moved from {from} to {to}.",
    "move": "Move a device",
    "firstSeen": "First seen",
    "devices": "Devices",
    "to": "To gateway",
    "noTarget": "No other active gateway serves this device's site.",
    "moveNote": "From now on only the new gateway's readings of the device are accepted; the old one's are set aside.",
    "moveSubmit": "Move",
    "cli": "Registering and revoking a gateway and issuing its certificate are done on the server with \"carbonflow gateways add\" and \"carbonflow gateways revoke\", which also update the broker's access list."
  }
};

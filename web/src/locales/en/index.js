// English messages of the web app; the keys match ../zh-CN/index.js one for one.
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
    "overview": "Plant overview",
    "series": "Series explorer",
    "devices": "Device health",
    "logout": "Log out",
    "menu": "Menu",
    "noPages": "Your role has no page in the web app yet."
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
    "never": "Never seen"
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
  }
};

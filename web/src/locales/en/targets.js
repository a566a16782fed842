// The carbon targets page (views/targets/).
export default {
  "targetsNav": {"potential": "Reduction potential", "targets": "Carbon targets"},
  "reductionPotential": {
    "title": "Reduction potential",
    "subtitle": "Per process, the intensity gap to the benchmark (advanced) and limit values of the process benchmark library, and the t CO2 it would save",
    "enterpriseYear": "Enterprise and year",
    "noYears": "No enterprise year with inventory data to show.",
    "toBenchmark": "Saved at the benchmark",
    "toLimit": "Saved at the limit",
    "total": "Inventory total",
    "route": "Route: {route}",
    "noRoute": "The route could not be told from the processes",
    "wholeWorks": "Whole works",
    "missing": "These processes emit but have no sourced indicator in the benchmark library, so no potential is given: {processes}",
    "noBenchmark": "No sourced benchmark",
    "chartLabel": "t CO2 saved per process at the benchmark and at the limit",
    "col": {"process": "Process", "tco2": "CO2 (t)", "intensity": "Intensity (t/t)", "benchmark": "Benchmark / limit (t/t)",
            "toBenchmark": "To benchmark (t)", "toLimit": "To limit (t)"},
    "status": {"compared": "compared", "no_output": "no product output, cannot compare", "no_benchmark": "no sourced benchmark"},
    "help": "Saved = max(0, intensity − reference) × output; intensity = process CO2 / product output. From the year's inventory (entered basis) and the library's indicators, each with its source."
  },
  "targets": {
    "title": "Carbon targets",
    "subtitle": "Set a region's or an enterprise group's total or intensity target, allocate it to sub-regions, industries, member enterprises or units by a rule and issue it; track it monthly and assess it at the end of the year",
    "new": "Set a target",
    "noneYet": "No target set for this region yet. Click \"Set a target\" to start.",
    "noneIssued": "No target has been issued to your units yet.",
    "issue": "Issue",
    "summary": "Target for {year}, base year {base}; allocated {rule} to {level}; tolerance {tolerance}",
    "draftNote": "Draft: the table below previews the allocation. Issue it when it is right; an issued target no longer changes (set a new target to change it).",
    "intensityUnit": "tCO2 per 10^4 yuan",
    "col": {
      "name": "Name", "region": "Region / group", "year": "Year", "kind": "Kind", "value": "Target", "rule": "Rule",
      "state": "State", "holder": "Holder", "baseCo2": "Base-year CO2 (t)", "baseIntensity": "Base intensity (t/10^4 yuan)",
      "targetCo2": "Target CO2 (t)", "targetIntensity": "Target intensity (t/10^4 yuan)", "cut": "Against base", "weight": "Share / benchmark",
      "rank": "Rank", "target": "Target", "actual": "Actual", "gap": "Against target", "met": "Result", "vsPrevious": "Against last period"
    },
    "kind": {"total": "Total emissions", "intensity": "Emission intensity"},
    "rule": {"equal_rate": "at an equal rate", "by_share": "by share", "by_benchmark": "by benchmark"},
    "ruleHelp": {
      "equal_rate": "Equal rate: each holder gets the total in proportion to its base-year CO2, so all cut by the same rate; an intensity target passes the same fall to every holder.",
      "by_share": "By share: the total is split in proportion to the shares given; enter a share for every holder.",
      "by_benchmark": "By benchmark: each holder's room is its value added × its benchmark intensity, scaled to the total; enter a benchmark (t CO2 per 10^4 yuan) for every holder."
    },
    "level": {"region": "sub-regions", "industry": "industries", "unit": "units", "enterprise": "member enterprises"},
    "holderKind": {"region": "Region", "group": "Enterprise group"},
    "groupLabel": "Group: {name}",
    "state": {"draft": "Draft", "issued": "Issued"},
    "tab": {"allocations": "Allocation", "tracking": "Monthly tracking", "assessment": "Assessment"},
    "track": {
      "actual": "Cumulative actual", "allowed": "Path", "show": "Show",
      "region": "Whole region", "group": "Whole group", "chartLabel": "Cumulative actual against the monthly path",
      "offTrack": "Warning: {n} holder(s) above the path: {names}",
      "onTrack": "Up to {through}, every holder is on or below the path.",
      "noFigures": "No monthly figures in the target year yet.",
      "helpTotal": "Path = target × months elapsed / 12; a holder whose cumulative actual is above it (beyond the tolerance) is off track.",
      "helpIntensity": "The path falls linearly from the base intensity to the target; cumulative intensity = cumulative CO2 / cumulative value added."
    },
    "assess": {
      "final": "Final result (all months of the year have figures): {assessed} holder(s) assessed, {met} met, {not_met} not met.",
      "provisional": "Provisional result (the year's figures are not complete): {assessed} holder(s), {met} met so far, {not_met} not met so far.",
      "previous": "Compared with the previous target \"{name}\" ({year}).",
      "csv": "Export CSV", "xlsx": "Export Excel",
      "met": "Met", "notMet": "Not met", "noFigures": "No figures",
      "help": "A holder meets its target when its actual is at most target × (1 + tolerance); the rank orders holders by how far below their target they are; the change against the last period is the difference of those gaps (negative is better)."
    },
    "form": {
      "title": "Set a carbon target", "holderKind": "Target of", "group": "Enterprise group", "noGroups": "No enterprise group in your scope yet.", "region": "Region", "name": "Name", "kind": "Kind", "year": "Target year",
      "baseYear": "Base year", "total": "Emission cap (t CO2)", "rate": "Intensity fall (%)", "level": "Allocate to",
      "rule": "Rule", "shares": "Shares of the holders", "benchmarks": "Benchmarks of the holders (t CO2 per 10^4 yuan)", "holder": "Holder",
      "addHolder": "Add a holder", "tolerance": "Tolerance (%)", "cancel": "Cancel", "preview": "Save and preview the allocation",
      "need": {
        "region": "Choose a region", "group": "Choose an enterprise group", "name": "Give a name", "nameLength": "At most 120 characters", "year": "Choose a year",
        "baseBefore": "The base year must be before the target year", "value": "Enter a total of 0 or more", "weights": "Enter a value for at least one holder"
      }
    }
  }
};

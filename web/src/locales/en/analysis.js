// The analysis and planning page (views/analysis/).
export default {
  "analysis": {
    "nav": "Analysis & peak forecast",
    "title": "Carbon analysis and peak forecast",
    "subtitle": "Decoupling from growth, decomposition of the change, and emissions projected under scenarios",
    "region": "Region",
    "syntheticNote": "The demo's prefecture is synthetic data made by the platform, not statistics.",
    "from": "From",
    "to": "To",
    "noYears": "This region has fewer than two years with CO2 and value added in the monitoring data.",
    "show": "Show",
    "tab": {"decoupling": "Decoupling", "decomposition": "Decomposition", "forecast": "Peak forecast"},
    "decoupling": {
      "help": "Tapio elasticity: CO2 growth divided by value-added growth, with its state among eight.",
      "missing": "Years without CO2 and value added, left out: {years}.",
      "chartLabel": "CO2 growth and value-added growth per year",
      "period": "Period",
      "overall": "Whole span",
      "co2Growth": "CO2 growth",
      "gdpGrowth": "Value-added growth",
      "elasticity": "Elasticity",
      "state": "State",
      "gdpNote": "Value added in 10^4 yuan at current prices, from the monitoring data."
    },
    "tapio": {
      "strong_decoupling": "Strong decoupling",
      "weak_decoupling": "Weak decoupling",
      "recessive_decoupling": "Recessive decoupling",
      "expansive_coupling": "Expansive coupling",
      "recessive_coupling": "Recessive coupling",
      "expansive_negative_decoupling": "Expansive negative decoupling",
      "strong_negative_decoupling": "Strong negative decoupling",
      "weak_negative_decoupling": "Weak negative decoupling"
    },
    "effect": {"activity": "Activity", "structure": "Structure", "intensity": "Energy intensity", "emission_factor": "Emission factor"},
    "decomposition": {
      "help": "Additive LMDI: the change in CO2 between the two years is split into the effects of output (value added), industry structure, energy per value added and CO2 per energy; they add up to the change exactly.",
      "change": "Change",
      "residual": "sum of effects − change: {value}",
      "chartLabel": "CO2 of the first year, each effect, CO2 of the second year",
      "excluded": "Left out, having no value added: {names} ({base} → {target} t CO2).",
      "industry": "Industry division"
    },
    "kaya": {
      "title": "Kaya factors",
      "identity": "CO2 = population × GDP per person × energy per GDP × CO2 per energy (population not held in the monitoring data).",
      "year": "Year",
      "co2": "CO2 (t)",
      "gdp": "Value added (10^4 yuan)",
      "energyPerGdp": "tce per 10^4 yuan",
      "co2PerEnergy": "t CO2 per tce"
    },
    "kind": {"baseline": "Baseline", "policy": "Policy", "enhanced": "Enhanced"},
    "model": {"kaya": "Kaya drivers", "stirpat": "STIRPAT fit"},
    "factor": {
      "population": "Population",
      "gdp_per_capita": "GDP per person",
      "gdp_growth": "GDP",
      "gdp": "GDP",
      "energy_intensity": "Energy intensity",
      "carbon_per_energy": "CO2 per energy"
    },
    "forecast": {
      "model": "Model",
      "endYear": "Until",
      "run": "Project",
      "help": "Growth rates start from each scenario's defaults (placeholders to edit, not official paths); STIRPAT adds intervals from the fit on the region's history.",
      "peakYear": "Peak year",
      "peakValue": "Peak emissions",
      "peakYears": "possible peak years {from}–{to}",
      "noPeak": "not by {year}",
      "fit": "Fit",
      "noFit": "no fit (too few years)",
      "chartLabel": "The region's CO2 history and projection with the peak",
      "history": "History",
      "projection": "Projection",
      "peakMark": "peak {year}",
      "factors": "Influencing factors",
      "factor": "Factor",
      "contribution": "Contribution to the peak (tCO2)",
      "elasticity": "Elasticity",
      "suggestions": "Suggestions",
      "rulesNote": "Each suggestion comes from a documented rule applied to the ranking and the decomposition.",
      "name": "Scenario name",
      "nameNeeded": "Give the scenario a name to save it.",
      "save": "Save scenario",
      "saved": "Scenario “{name}” saved.",
      "savedTitle": "Saved scenarios",
      "noneSaved": "No scenario saved for this region.",
      "kindLabel": "Kind",
      "compare": "Compare selected",
      "compareLabel": "The saved scenarios' projections side by side"
    },
    "suggestion": {
      "no_peak": "Emissions still rise in {end_year} (+{growth} that year): cut CO2 per unit of GDP by a further {needed} a year to reach a peak.",
      "peak": "Emissions peak in {peak_year} at {peak_co2} t CO2 under this scenario.",
      "growth_driven": "{factor} adds {contribution} t CO2 by {year}; the intensity factors offset {offset} of it.",
      "structure": "Industry structure shifted towards carbon-intensive industries (+{effect} t CO2); largest: {top}.",
      "intensity": "Energy intensity rose (+{effect} t CO2); target efficiency in {top}.",
      "emission_factor": "The energy mix became more carbon-intensive (+{effect} t CO2); switch fuels in {top}."
    }
  }
};

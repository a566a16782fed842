// The reduction projects and carbon assets pages (views/projects/, views/assets/).
export default {
  "projectsNav": {
    "projects": "Reduction projects",
    "assets": "Carbon assets"
  },
  "projects": {
    "title": "Reduction projects",
    "subtitle": "Initiation → implementation → acceptance → filing, reductions per monitoring period (GB/T 33760)",
    "create": "New project",
    "created": "Project “{name}” registered",
    "exportCsv": "Export CSV",
    "exportXlsx": "Export XLSX",
    "kind": "Kind",
    "stage": "Stage",
    "allKinds": "All kinds",
    "allStages": "All stages",
    "name": "Name",
    "enterprise": "Owner",
    "budget": "Budget",
    "spent": "Spent",
    "spentShare": "Spent of budget",
    "noBudget": "No budget",
    "none": "No projects",
    "gridRegion": "Regional grid",
    "budgetYuan": "Budget (yuan)",
    "capacity": "Capacity (kW)",
    "yuan": "yuan",
    "kinds": {
      "grid_pv": "Grid-connected PV",
      "wind": "Wind",
      "energy_efficiency": "Energy efficiency",
      "fuel_switch": "Fuel switch",
      "ccer": "CCER",
      "carbon_sink": "Carbon sink",
      "two_high": "High energy / high emission"
    },
    "stages": {
      "initiated": "Initiated",
      "implementing": "Implementing",
      "accepted": "Accepted",
      "filed": "Filed / certified"
    },
    "grids": {
      "north": "North China grid",
      "northeast": "Northeast grid",
      "east": "East China grid",
      "central": "Central China grid",
      "northwest": "Northwest grid",
      "south": "China Southern grid"
    },
    "roles": {
      "export": "Export meter",
      "import": "Import meter",
      "activity": "Consumption: {activity}"
    },
    "activities": {
      "electricity": "electricity",
      "diesel": "diesel",
      "natural_gas": "natural gas",
      "coal": "coal",
      "gasoline": "gasoline",
      "fuel_oil": "fuel oil",
      "lpg": "LPG"
    },
    "form": {
      "enterpriseNeeded": "Choose the owner",
      "nameNeeded": "Give the project a name",
      "kindNeeded": "Choose a kind",
      "regionNeeded": "Choose the regional grid",
      "budgetNeeded": "Enter the budget (0 if none)"
    },
    "detail": {
      "back": "Back to the list",
      "lifecycle": "Lifecycle",
      "comment": "Comment on the move (optional)",
      "moveTo": "Move to “{stage}”",
      "moved": "The project moved to “{stage}”",
      "complete": "The lifecycle is complete",
      "metering": "Meters and verification",
      "verifiers": "Verifiers",
      "noVerifier": "none assigned",
      "noPoints": "No meter bound yet",
      "meter": "Meter",
      "role": "Use",
      "boundAt": "Bound at",
      "verifierHint": "Verifier's user name",
      "assign": "Assign verifier",
      "verifierAssigned": "{name} assigned as verifier"
    },
    "docs": {
      "title": "Documents",
      "upload": "Upload a “{stage}” document",
      "uploaded": "{name} uploaded",
      "uploadedHash": "{name} uploaded, SHA-256 {hash}…",
      "none": "No documents",
      "file": "File"
    },
    "funds": {
      "title": "Funds: budget and spent",
      "summary": "{spent} spent of {budget} yuan",
      "chartLabel": "Budget against spent",
      "amount": "Amount (yuan)",
      "date": "Date",
      "note": "Note",
      "record": "Record spending",
      "recorded": "{amount} yuan recorded",
      "amountNeeded": "Enter an amount above 0",
      "dateNeeded": "Choose the date"
    },
    "periods": {
      "title": "Reductions per monitoring period",
      "help": "ER = BE − PE − LE: BE from net generation × the combined margin (EF_CM = w_OM·EF_OM + w_BM·EF_BM) or from the displaced baseline activities, PE from the project's metered fuel and electricity, LE entered with a justification. Open a period for its provenance and certification record.",
      "months": "Months",
      "from": "From",
      "to": "To",
      "leakage": "Leakage LE (tCO2e)",
      "justification": "Leakage justification",
      "baseline": "Baseline activity (displaced)",
      "activityHint": "e.g. electricity",
      "quantity": "Quantity",
      "compute": "Compute",
      "computed": "Computed: ER = {er} tCO2e",
      "monthsNeeded": "Choose the first and last month (same year)",
      "justificationNeeded": "A leakage needs its justification",
      "chartLabel": "BE, PE, LE and ER per period",
      "none": "No period computed yet",
      "period": "Period",
      "status": "Status",
      "issued": "Issued (t)",
      "statuses": {
        "computed": "Computed",
        "submitted": "Submitted",
        "verified": "Verified",
        "refused": "Refused",
        "certified": "Certified"
      },
      "actions": {
        "submit": "Submitted",
        "verify": "Verified",
        "refuse": "Refused",
        "certify": "Certified",
        "comment": "Comment"
      },
      "done": {
        "submit": "Submitted for verification",
        "verify": "Verified",
        "refuse": "Refused; the finding is kept",
        "certify": "Certified; the reduction is issued into the owner's holdings",
        "comment": "Comment saved"
      },
      "dialog": "Period {label}",
      "provenance": "Provenance",
      "formula": "Formula version",
      "factors": "Factor rows",
      "readings": "Readings and inputs",
      "computedBy": "Computed by",
      "history": "Certification record and comments",
      "noEvents": "Nothing yet",
      "notePlaceholder": "Finding or comment (needed to verify, refuse or comment)",
      "commentNeeded": "Write the finding or comment first",
      "addComment": "Add comment",
      "submit": "Submit for verification",
      "verify": "Verify",
      "refuse": "Refuse",
      "certify": "Certify and issue"
    }
  },
  "assets": {
    "deadlines": {
      "title": "Compliance and trading calendar",
      "add": "Add a deadline",
      "soon": "Due soon: {title}, in {n} days",
      "none": "No deadlines",
      "due": "Due on",
      "name": "Deadline",
      "kind": "Kind",
      "region": "Region",
      "everyRegion": "Every region",
      "left": "Left",
      "remind": "Remind ahead (days)",
      "regionHint": "Your region by default",
      "note": "Note",
      "remove": "Remove",
      "removeAsk": "Remove this deadline?",
      "titleNeeded": "Name the deadline",
      "dateNeeded": "Choose the date",
      "kinds": {
        "compliance": "Compliance",
        "trading": "Trading",
        "reporting": "Reporting"
      },
      "status": {
        "past": "{n} days ago",
        "due_soon": "due in {n} days",
        "upcoming": "in {n} days"
      }
    },
    "title": "Carbon assets",
    "subtitle": "Allowances, holdings, ledger and compliance",
    "enterprise": "Enterprise",
    "noEnterprises": "No enterprise in your scope",
    "chooseEnterprise": "Choose an enterprise",
    "year": "Year",
    "instrument": "Instrument",
    "vintage": "Vintage",
    "quantity": "Quantity (tCO2e)",
    "instruments": {
      "allowance": "Allowance",
      "ccer": "CCER",
      "certified_reduction": "Certified reduction"
    },
    "kinds": {
      "allocate": "Allocated",
      "issue": "Issued",
      "buy": "Buy",
      "sell": "Sell",
      "surrender": "Surrender",
      "transfer": "Transfer",
      "transfer_in": "Transfer in",
      "transfer_out": "Transfer out"
    },
    "allowances": {
      "title": "Allowances by year",
      "amount": "Allowances (tCO2e)",
      "method": "Method",
      "benchmark": "Benchmark: {benchmark} × output {output} × adjustment {adjustment}",
      "entered": "Entered",
      "none": "No allowances allocated"
    },
    "holdings": {
      "title": "Holdings",
      "offsets": "Offsets held: {n} t",
      "none": "Nothing held"
    },
    "ledger": {
      "title": "Ledger",
      "none": "No entries",
      "at": "Time",
      "kind": "Kind",
      "price": "Price (yuan/t)",
      "counterparty": "Counterparty",
      "reference": "Reference / by",
      "covers": "covers {year}"
    },
    "tx": {
      "new": "Record a transaction",
      "record": "Record",
      "price": "Price (yuan/t)",
      "toEnterprise": "Receiving enterprise ID",
      "complianceYear": "Compliance year",
      "held": "{n} t held",
      "recorded": "{kind} of {n} t recorded",
      "quantityNeeded": "Enter a quantity above 0",
      "vintageNeeded": "Enter the vintage",
      "priceNeeded": "A buy or sell needs its price",
      "counterpartyNeeded": "Enter the counterparty",
      "yearNeeded": "A surrender needs the year it covers"
    },
    "compliance": {
      "title": "Compliance position",
      "help": "Position = allowances + usable offsets − verified emissions; offsets up to the cap × emissions",
      "cap": "Offset cap (%)",
      "prices": "Price scenarios (low/mid/high, yuan/t)",
      "current": "Current price",
      "months": "Months to deadline",
      "illustrative": "The price scenarios are illustrative; set them to the market's.",
      "deficitWarning": "A year-end deficit of {gap} t is projected: plan purchases ahead.",
      "allowances": "Allowances",
      "offsetsHeld": "{n} t of offsets held",
      "verified": "Verified emissions",
      "usable": "{n} t of offsets usable",
      "notVerified": "No verified emissions yet",
      "position": "Position",
      "status": {
        "surplus": "Surplus",
        "deficit": "Deficit",
        "balanced": "Balanced"
      },
      "projectedGap": "Projected year-end gap",
      "projection": "{recorded} t in {months} months, {projected} t projected",
      "noMonths": "No monthly emissions yet",
      "projected": "Projected",
      "emissions": "Emissions",
      "usableOffsets": "Usable offsets",
      "chartLabel": "Emissions against allowances and usable offsets",
      "scenario": "Scenario",
      "price": "Price",
      "cost": "Amount (yuan)",
      "pay": "to pay",
      "earn": "to earn",
      "scenarios": {
        "low": "Low",
        "mid": "Mid",
        "high": "High"
      },
      "strategy": "Suggested strategy",
      "actions": {
        "buy": "Buy {n} t",
        "sell": "Sell {n} t",
        "hold": "Hold"
      },
      "timing": {
        "now": "now",
        "review": "review monthly",
        "lots": "in {n} monthly lots of about {q} t"
      },
      "rule": "Rule: with a deficit, buy now when the current price is at or below the scenario mean or the deadline is within a month, else spread monthly; sell a surplus beyond a 10% buffer of emissions when the price is at or above the mean; else hold.",
      "noGap": "Record verified or monthly emissions to see the trading cost."
    }
  }
};

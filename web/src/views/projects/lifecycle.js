// What the projects pages share: the lifecycle of a kind (as carbon_domain/projects.py stages_of says it), who may
// do what (as api/projects/router.py checks it), and the figures of a project's funds.
import {session} from "../../session.js";

export const KINDS = ["grid_pv", "wind", "energy_efficiency", "fuel_switch", "ccer", "carbon_sink", "two_high"];
export const STAGES = ["initiated", "implementing", "accepted", "filed"];
export const GRID_REGIONS = ["north", "northeast", "east", "central", "northwest", "south"];
// kinds whose reductions are traded or credited end with filing (备案/认证); the others end at acceptance
const FILED_KINDS = new Set(["grid_pv", "wind", "ccer", "carbon_sink"]);

/** The stages a project of `kind` goes through. */
export function stagesOf(kind) { return FILED_KINDS.has(kind) ? STAGES : STAGES.slice(0, 3); }

/** The stages a project has reached (the ones before its current stage, and that one): spending may name them. */
export function reachedStages(project) {
  const stages = stagesOf(project.kind);
  return stages.slice(0, stages.indexOf(project.stage) + 1);
}

/** The owning enterprise's users and administrators change a project (the API answers 403 to the others). */
export function mayChange() { return ["enterprise", "admin"].includes(session.me?.role); }

/** Only the assigned verifier (an auditor) verifies or refuses; the API checks the assignment. */
export function mayVerify() { return session.me?.role === "auditor" && session.me.permissions.includes("project_verify"); }

/** Administrators assign verifiers and certify. */
export function isAdmin() { return session.me?.role === "admin"; }

/** Spent as a share of the budget, in percent (null without a budget): of a project, or of one of its stages. */
export function spentShare(project) {
  return project.budget ? Math.round((project.spent / project.budget) * 1000) / 10 : null;
}

/** What a bound counter meters (api/projects/router.py bind_point): the export / import counters of grid PV and
 *  wind, or an activity the project consumes (carbon_domain/accounting.py EMITTING_ACTIVITIES). */
export const METER_ROLES = ["export", "import"];
export const CONSUMED_ACTIVITIES = ["electricity", "heat", "natural_gas", "diesel", "fuel_oil", "anthracite",
                                    "bituminous_coal", "coke", "coke_oven_gas", "blast_furnace_gas", "converter_gas"];

/** The 两高 figures of a year whose actual exceeds the approved one: ["energy", "co2"] or fewer. */
export function exceeded(year) {
  const over = (approved, actual) => approved !== null && actual !== null && actual > approved;
  return [over(year.approved_tce, year.actual_tce) && "energy", over(year.approved_tco2, year.actual_tco2) && "co2"]
    .filter(Boolean);
}

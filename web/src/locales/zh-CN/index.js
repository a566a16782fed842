// 中文（默认）：the web app's Chinese messages; the keys match ../en/index.js one for one.
// Each service keeps its own texts in a file beside this one (monitoring.js, efficiency.js, ...) with its own top-level
// keys; add the file to AREAS below. The keys of every file match the other language's file one for one.
import accounting from "./accounting.js";
import analysis from "./analysis.js";
import base from "./base.js";
import bigscreen from "./bigscreen.js";
import efficiency from "./efficiency.js";
import emissions from "./emissions.js";
import enterpriseAnalysis from "./enterpriseAnalysis.js";
import gridFactors from "./gridFactors.js";
import monitoring from "./monitoring.js";
import projects from "./projects.js";
import registryAdmin from "./registryAdmin.js";
import targets from "./targets.js";

const AREAS = [
  base,
  accounting,
  analysis,
  bigscreen,
  efficiency,
  emissions,
  enterpriseAnalysis,
  gridFactors,
  monitoring,
  projects,
  registryAdmin,
  targets,
];

export default Object.assign({}, ...AREAS);

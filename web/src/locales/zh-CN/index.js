// 中文（默认）：the web app's Chinese messages; the keys match ../en/index.js one for one.
// Each service keeps its own texts in a file beside this one (monitoring.js, efficiency.js, ...) with its own top-level
// keys; add the file to AREAS below. The keys of every file match the other language's file one for one.
import accounting from "./accounting.js";
import analysis from "./analysis.js";
import base from "./base.js";
import bigscreen from "./bigscreen.js";
import emissions from "./emissions.js";
import gridFactors from "./gridFactors.js";
import registryAdmin from "./registryAdmin.js";

const AREAS = [
  base,
  bigscreen,
  accounting,
  analysis,
  emissions,
  gridFactors,
  registryAdmin,
];

export default Object.assign({}, ...AREAS);

// 中文（默认）：the web app's Chinese messages; the keys match ../en/index.js one for one.
// Each service keeps its own texts in a file beside this one (monitoring.js, efficiency.js, ...) with its own top-level
// keys; add the file to AREAS below. The keys of every file match the other language's file one for one.
import base from "./base.js";
import gridFactors from "./gridFactors.js";
import projects from "./projects.js";

const AREAS = [
  base,
  gridFactors,
  projects,
];

export default Object.assign({}, ...AREAS);

// The bundle budget: the JavaScript a first page load fetches (the entry chunk and every chunk it imports
// statically, as Vite's manifest lists them) must stay within 500 kB once gzipped. Pages and the chart library are
// loaded on demand and do not count. Exits 1 naming the measured size when over.
//
//   node scripts/check-budget.mjs <dist folder> [budget in kB]
import {readFileSync} from "node:fs";
import {join} from "node:path";
import {gzipSync} from "node:zlib";

const dist = process.argv[2];
const budgetKb = Number(process.argv[3] ?? 500);
if (!dist) {
  console.error("usage: node scripts/check-budget.mjs <dist folder> [budget in kB]");
  process.exit(2);
}

let manifest;
try {
  manifest = JSON.parse(readFileSync(join(dist, ".vite", "manifest.json"), "utf8"));
} catch (error) {
  console.error(`budget: cannot read ${join(dist, ".vite", "manifest.json")} (${error.message}): build with manifest: true`);
  process.exit(2);
}

const entries = Object.keys(manifest).filter(key => manifest[key].isEntry);
const initial = new Set();
const visit = (key) => {
  const chunk = manifest[key];
  if (!chunk || initial.has(chunk.file)) return;
  initial.add(chunk.file);
  for (const imported of chunk.imports || []) visit(imported);
};
entries.forEach(visit);

const files = [...initial].filter(file => file.endsWith(".js"));
const sizes = files.map(file => [file, gzipSync(readFileSync(join(dist, file)), {level: 9}).length]);
const total = sizes.reduce((sum, [, size]) => sum + size, 0);
const kb = (bytes) => (bytes / 1000).toFixed(1);
for (const [file, size] of sizes) console.log(`budget: ${file} ${kb(size)} kB gzip`);
if (total > budgetKb * 1000) {
  console.error(`budget: initial JS is ${kb(total)} kB gzip, over the budget of ${budgetKb} kB: load more on demand`);
  process.exit(1);
}
console.log(`budget: initial JS is ${kb(total)} kB gzip, within ${budgetKb} kB`);

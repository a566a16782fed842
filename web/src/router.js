// The pages, one route each, with the permissions a role needs to see it (api/auth/access.py gives each role its
// permissions; GET /auth/me hands them to the page). The menu and the guard both read `meta.needs`, so a page
// appears in the menu exactly when its route lets the role in:
//
//   page              needs              government  enterprise  auditor  technician  admin
//   plant overview    emissions               ✓           ✓          ✓                   ✓
//   series explorer   series + devices        ✓           ✓          ✓         ✓         ✓
//   device health     devices                 ✓           ✓          ✓         ✓         ✓
import {createRouter, createWebHashHistory} from "vue-router";
import {can, session} from "./session.js";

export const PAGES = [
  {path: "/overview", name: "overview", component: () => import("./views/emissions/OverviewView.vue"),
   meta: {needs: ["emissions"], label: "nav.overview", icon: "overview"}},
  {path: "/series", name: "series", component: () => import("./views/telemetry/SeriesView.vue"),
   meta: {needs: ["series", "devices"], label: "nav.series", icon: "series"}},
  {path: "/devices", name: "devices", component: () => import("./views/registry/DeviceHealthView.vue"),
   meta: {needs: ["devices"], label: "nav.devices", icon: "devices"}},
];

export function allowed(page) { return page.meta.needs.every(can); }

/** The pages the signed-in role may use, in menu order. */
export function allowedPages() { return PAGES.filter(allowed); }

export const router = createRouter({
  history: createWebHashHistory(),
  routes: [...PAGES, {path: "/:rest(.*)*", name: "none", component: {render: () => null}}],
});

// a page the role may not use, or no page: the first page it may use (none before sign-in)
router.beforeEach((to) => {
  if (session.me === null) return true;
  const page = PAGES.find(p => p.name === to.name);
  if (page && allowed(page)) return true;
  const first = allowedPages()[0];
  return first && first.name !== to.name ? {name: first.name} : true;
});

// The pages, one route each, with the permissions a role needs to see it (api/auth/access.py gives each role its
// permissions; GET /auth/me hands them to the page). The menu and the guard both read `meta.needs`, so a page
// appears in the menu exactly when its route lets the role in:
//
//   page              needs              government  enterprise  auditor  technician  admin
//   plant overview    emissions               ✓           ✓          ✓                   ✓
//   series explorer   series + devices        ✓           ✓          ✓         ✓         ✓
//   device health     devices                 ✓           ✓          ✓         ✓         ✓
//   alarms            alarms                  ✓           ✓          ✓         ✓         ✓
//   gateway registry  gateways                                                  ✓         ✓
//   audit log         audit                                                               ✓
//   users             users                                                               ✓
//   API tokens        (signed in)             ✓           ✓          ✓         ✓         ✓
//
// Within a page, what a role may do is asked of can() again: acknowledging and clearing alarms needs
// 'alarm_actions', point ranges and accepting rises 'point_ranges', moving a device 'hierarchy'.
import {createRouter, createWebHashHistory} from "vue-router";
import {can, session} from "./session.js";

export const PAGES = [
  {path: "/overview", name: "overview", component: () => import("./views/emissions/OverviewView.vue"),
   meta: {needs: ["emissions"], label: "nav.overview", icon: "overview"}},
  {path: "/series", name: "series", component: () => import("./views/telemetry/SeriesView.vue"),
   meta: {needs: ["series", "devices"], label: "nav.series", icon: "series"}},
  {path: "/devices", name: "devices", component: () => import("./views/registry/DeviceHealthView.vue"),
   meta: {needs: ["devices"], label: "nav.devices", icon: "devices"}},
  {path: "/alarms", name: "alarms", component: () => import("./views/alarms/AlarmsView.vue"),
   meta: {needs: ["alarms"], label: "nav.alarms", icon: "alarms"}},
  {path: "/gateways", name: "gateways", component: () => import("./views/registry/GatewaysView.vue"),
   meta: {needs: ["gateways"], label: "nav.gateways", icon: "gateways"}},
  {path: "/audit", name: "audit", component: () => import("./views/audit/AuditView.vue"),
   meta: {needs: ["audit"], label: "nav.audit", icon: "audit"}},
  {path: "/users", name: "users", component: () => import("./views/auth/UsersView.vue"),
   meta: {needs: ["users"], label: "nav.users", icon: "users"}},
  {path: "/tokens", name: "tokens", component: () => import("./views/auth/TokensView.vue"),
   meta: {needs: [], label: "nav.tokens", icon: "tokens"}},
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

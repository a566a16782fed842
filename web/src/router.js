// The pages, one route each, with the permissions a role needs to see it (api/auth/access.py gives each role its
// permissions; GET /auth/me hands them to the page). The menu and the guard both read `meta.needs`, so a page
// appears in the menu exactly when its route lets the role in. The pages live in ./pages/, a file per service.
//
// Within a page, what a role may do is asked of can() again: acknowledging and clearing alarms needs
// 'alarm_actions', point ranges and accepting rises 'point_ranges', moving a device 'hierarchy'.
import {createRouter, createWebHashHistory} from "vue-router";
import {GROUPS} from "./menugroups.js";
import {can, session} from "./session.js";

// every file in ./pages/ registers its service's pages (pages/README.md); the menu lists them by section, then order
const FILES = import.meta.glob("./pages/*.js", {eager: true, import: "default"});
export const PAGES = Object.values(FILES).flat().sort(
  (a, b) => GROUPS.indexOf(a.meta.group) - GROUPS.indexOf(b.meta.group) || a.meta.order - b.meta.order);

export function allowed(page) { return page.meta.needs.every(can); }

/** The pages the signed-in role may use, in menu order. A public page that needs no permission (reached by a
 *  link, e.g. a certificate's verification) is not in the menu; a public page of a service is, for its roles. */
export function allowedPages() { return PAGES.filter(p => !(p.meta.public && p.meta.needs.length === 0) && allowed(p)); }

export const router = createRouter({
  history: createWebHashHistory(),
  routes: [...PAGES, {path: "/:rest(.*)*", name: "none", component: {render: () => null}}],
});

// a page the role may not use, or no page: the first page it may use (none before sign-in)
// (a page marked public: true opens for anyone, signed in or not)
router.beforeEach((to) => {
  if (session.me === null || to.meta.public) return true;
  const page = PAGES.find(p => p.name === to.name);
  if (page && (page.meta.public || allowed(page))) return true;
  const first = allowedPages()[0];
  return first && first.name !== to.name ? {name: first.name} : true;
});

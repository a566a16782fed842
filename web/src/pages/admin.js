// Administration pages: gateway registry, audit log, users and roles, API tokens.
export default [
  {path: "/gateways", name: "gateways", component: () => import("../views/registry/GatewaysView.vue"),
   meta: {needs: ["gateways"], label: "nav.gateways", group: "admin", order: 900,
          icon: "M3 14h18v6H3zm2 2v2h2v-2zm4 0v2h2v-2zM11 3h2v5h3l-4 5-4-5h3z"}},
  {path: "/audit", name: "audit", component: () => import("../views/audit/AuditView.vue"),
   meta: {needs: ["audit"], label: "nav.audit", group: "admin", order: 910,
          icon: "M6 2h9l5 5v15H6zm8 1.5V8h4.5zM8 12h8v2H8zm0 4h8v2H8z"}},
  {path: "/users", name: "users", component: () => import("../views/auth/UsersView.vue"),
   meta: {needs: ["users"], label: "nav.users", group: "admin", order: 920,
          icon: "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm7 0a3 3 0 1 0 0-6v6zM1 20c0-3.3 3.6-6 8-6s8 2.7 8 6zm17-5.8c2.4.6 5 2 5 5.8h-4c0-2.3-.4-4.2-1-5.8z"}},
  {path: "/tokens", name: "tokens", component: () => import("../views/auth/TokensView.vue"),
   meta: {needs: [], label: "nav.tokens", group: "admin", order: 930,
          icon: "M7 14a2 2 0 1 1 0-4 2 2 0 0 1 0 4zm5.6-4A6 6 0 1 0 12.6 14H17v3h3v-3h2v-4z"}},
];

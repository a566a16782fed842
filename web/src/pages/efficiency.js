// 碳效码 pages: the government's codes of its region (distributions, watch list, exports, computation), the
// carbon account of a unit (government and enterprise), and the public verification of a certificate.
export default [
  {path: "/efficiency", name: "efficiency", component: () => import("../views/efficiency/EfficiencyView.vue"),
   meta: {needs: ["efficiency_code_view", "efficiency_code_compute"], label: "efficiencyNav.codes", group: "government",
          order: 400, icon: "M3 3h8v8H3zm2 2v4h4V5zm8-2h8v8h-8zm2 2v4h4V5zM3 13h8v8H3zm2 2v4h4v-4zm8-2h3v3h-3zm5 0h3v3h-3zm-5 5h3v3h-3zm5 0h3v3h-3z"}},
  {path: "/carbon-account", name: "carbon-account", component: () => import("../views/efficiency/AccountView.vue"),
   meta: {needs: ["efficiency_code_view"], label: "efficiencyNav.account", group: "government", order: 410,
          icon: "M4 4h16a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm0 4v10h16V8zm2 2h6v2H6zm0 4h4v2H6zm9-4h3v6h-3z"}},
  {path: "/verify/:token", name: "verify-certificate", component: () => import("../views/efficiency/VerifyView.vue"),
   meta: {needs: [], public: true, label: "efficiencyNav.verify", group: "government", order: 449, icon: ""}},
];

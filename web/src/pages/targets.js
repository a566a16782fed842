// Carbon targets (碳目标管理, api/analysis/ targets): government users set, allocate, issue, track and assess a
// region's targets; enterprise users see the targets issued to their units.
export default [
  {path: "/targets", name: "targets", component: () => import("../views/targets/TargetsView.vue"),
   meta: {needs: ["monitoring"], label: "targetsNav.targets", group: "government", order: 650,
          icon: "M12 2a10 10 0 1 0 10 10A10 10 0 0 0 12 2zm0 4a6 6 0 1 1-6 6 6 6 0 0 1 6-6zm0 4a2 2 0 1 0 2 2 2 2 0 0 0-2-2z"}},
  {path: "/reduction-potential", name: "reduction-potential",
   component: () => import("../views/targets/ReductionPotentialView.vue"),
   meta: {needs: ["emissions"], label: "targetsNav.potential", group: "government", order: 660,
          icon: "M3 17l6-6 4 4 8-8M14 7h7v7"}},
];

// Analysis and planning (api/analysis/): decoupling, decomposition, peak forecast and scenarios; the
// government side (region views), for government users and administrators.
export default [
  {path: "/analysis", name: "analysis", component: () => import("../views/analysis/AnalysisView.vue"),
   meta: {needs: ["monitoring", "monitoring_review"], label: "analysis.nav", group: "government", order: 600,
          icon: "M3 3h2v16h16v2H3zm4 12 4-5 3 3 5-7 1.6 1.2-6.4 9-3-3-2.6 3.3z"}},
];

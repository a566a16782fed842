// Electricity-carbon factors (电碳因子, api/grid_factors/): for government users and administrators.
export default [
  {path: "/grid-factors", name: "grid-factors", component: () => import("../views/grid_factors/GridFactorsView.vue"),
   meta: {needs: ["grid_factors"], label: "gridFactors.nav", group: "government", order: 450,
          icon: "M13 2 4 14h7l-1 8 9-12h-7z"}},
];

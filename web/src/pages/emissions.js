// Emission figures and where they come from: emissions by source, process, day and month with the drill-down
// figure -> factor rows and formula -> the hour's readings; and the factor library's versions and history.
export default [
  {path: "/emissions", name: "emissions", component: () => import("../views/emissions/EmissionsView.vue"),
   meta: {needs: ["emissions"], label: "emissionsNav.breakdown", group: "accounting", order: 200,
          icon: "M4 20V10h3v10zm6.5 0V4h3v16zM17 20v-7h3v7zM2 22v-1.5h20V22z"}},
  {path: "/factors", name: "factors", component: () => import("../views/emissions/FactorLibraryView.vue"),
   meta: {needs: ["emissions"], label: "emissionsNav.factors", group: "accounting", order: 230,
          icon: "M4 3h12l4 4v14H4zm11 1.5V8h3.5zM7 11h10v1.6H7zm0 3.5h10v1.6H7zm0 3.5h6v1.6H7zM7 7h5v1.6H7z"}},
];

// Reduction projects and carbon assets (api/projects/, api/assets/): for enterprises, government users of their
// region and (projects) the verifiers assigned to them.
export default [
  {path: "/projects", name: "projects", component: () => import("../views/projects/ProjectsView.vue"),
   meta: {needs: ["projects"], label: "projectsNav.projects", group: "accounting", order: 500,
          icon: "M4 20h16M6 16l4-5 3 3 5-7M18 7h-3M18 7v3"}},
  {path: "/assets", name: "assets", component: () => import("../views/assets/AssetsView.vue"),
   meta: {needs: ["assets"], label: "projectsNav.assets", group: "accounting", order: 510,
          icon: "M12 3 3 8l9 5 9-5zM3 13l9 5 9-5M3 17.5l9 5 9-5"}},
];

// The plant's big screen (大屏): the overview for a wall display, dark, refreshing itself, without the menu.
// `chrome: false` tells App.vue to show the page alone, outside the shell.
export default [
  {path: "/bigscreen", name: "bigscreen", component: () => import("../views/emissions/BigScreenView.vue"),
   meta: {needs: ["emissions"], label: "bigscreenNav.label", group: "plant", order: 105, chrome: false,
          icon: "M2 4h20v13H2zm2 2v9h16V6zm4 13h8v2H8z"}},
];

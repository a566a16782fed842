// Accounting pages: entering activity data, and the GHG reports with their review workflow.
export default [
  {path: "/activity", name: "activity", component: () => import("../views/accounting/ActivityEntryView.vue"),
   meta: {needs: ["activity_data"], label: "accountingNav.activity", group: "accounting", order: 240,
          icon: "M5 3h10l4 4v14H5zm9 1.5V8h3.5zM8 11h8v2H8zm0 4h5v2H8zm9 1v-2h2v2h2v2h-2v2h-2v-2h-2v-2z"}},
  {path: "/reports", name: "reports", component: () => import("../views/accounting/ReportsView.vue"),
   meta: {needs: ["emissions"], label: "accountingNav.reports", group: "accounting", order: 250,
          icon: "M4 3h12l4 4v14H4zm11 1.5V8h3.5zM7 17h2v-4H7zm4 0h2V9h-2zm4 0h2v-6h-2z"}},
];

// Enterprise analysis (api/analysis/enterprise_router.py): a site's CO2 change split by process (LMDI) and its
// year-end and peak forecast under scenarios; for the energy managers of the enterprise (and whoever may read its
// emissions).
export default [
  {path: "/enterprise-analysis", name: "enterprise-analysis",
   component: () => import("../views/enterprise_analysis/EnterpriseAnalysisView.vue"),
   meta: {needs: ["emissions"], label: "enterpriseAnalysisNav.page", group: "accounting", order: 280,
          icon: "M3 3h2v16h16v2H3zm4 10h3v5H7zm5-4h3v9h-3zm5-5h3v14h-3z"}},
];

// Government monitoring pages (api/monitoring/): regions with drill-down, the map, industries, the unit archive,
// anomaly reminders, public institutions (with a public page needing no login) and the international comparison.
const view = (name) => () => import(`../views/monitoring/${name}.vue`);

export default [
  {path: "/monitoring/regions", name: "monitoring-regions", component: view("RegionView"),
   meta: {needs: ["monitoring"], label: "monitoringNav.regions", group: "government", order: 300,
          icon: "M4 20V10h4v10zm6 0V4h4v16zm6 0v-7h4v7z"}},
  {path: "/monitoring/map", name: "monitoring-map", component: view("MapView"),
   meta: {needs: ["monitoring"], label: "monitoringNav.map", group: "government", order: 310,
          icon: "M15 5.1 9 3 3 5v16l6-2.1 6 2.1 6-2V3zM15 19l-6-2.1V5l6 2.1z"}},
  {path: "/monitoring/industries", name: "monitoring-industries", component: view("IndustryView"),
   meta: {needs: ["monitoring"], label: "monitoringNav.industries", group: "government", order: 320,
          icon: "M2 21V9l6 4V9l6 4V3h8v18z"}},
  {path: "/monitoring/units", name: "monitoring-units", component: view("UnitsView"),
   meta: {needs: ["monitoring"], label: "monitoringNav.units", group: "government", order: 330,
          icon: "M4 3h12l4 4v14H4zm2 2v14h12V8h-3V5zm2 5h8v2H8zm0 4h8v2H8z"}},
  {path: "/monitoring/anomalies", name: "monitoring-anomalies", component: view("AnomaliesView"),
   meta: {needs: ["monitoring"], label: "monitoringNav.anomalies", group: "government", order: 340,
          icon: "M1 21h22L12 2zm12-3h-2v-2h2zm0-4h-2v-4h2z"}},
  {path: "/monitoring/institutions", name: "monitoring-institutions", component: view("InstitutionsView"),
   meta: {needs: ["monitoring"], label: "monitoringNav.institutions", group: "government", order: 350,
          icon: "M12 2 2 7v2h20V7zM4 11v7h3v-7zm6 0v7h4v-7zm7 0v7h3v-7zM2 20v2h20v-2z"}},
  {path: "/monitoring/world", name: "monitoring-world", component: view("WorldView"),
   meta: {needs: ["monitoring"], label: "monitoringNav.world", group: "government", order: 360,
          icon: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm6.9 6h-3a15.7 15.7 0 0 0-1.3-3.6A8 8 0 0 1 18.9 8zM12 4c.8 1.2 1.5 2.5 1.9 4h-3.8c.4-1.5 1.1-2.8 1.9-4zM4.3 14a8 8 0 0 1 0-4h3.4a16.5 16.5 0 0 0 0 4zm.8 2h3a15.7 15.7 0 0 0 1.3 3.6A8 8 0 0 1 5.1 16zm3-8h-3a8 8 0 0 1 4.3-3.6C8.9 5.5 8.4 6.7 8.1 8zM12 20c-.8-1.2-1.5-2.5-1.9-4h3.8c-.4 1.5-1.1 2.8-1.9 4zm2.3-6H9.7a14.7 14.7 0 0 1 0-4h4.6a14.7 14.7 0 0 1 0 4zm.3 5.6c.6-1.1 1-2.3 1.3-3.6h3a8 8 0 0 1-4.3 3.6zm1.7-5.6a16.5 16.5 0 0 0 0-4h3.4a8 8 0 0 1 0 4z"}},
  // shown without signing in (public: true); in the menu of the roles that monitor
  {path: "/public/institutions", name: "public-institutions", component: view("PublicInstitutionsView"),
   meta: {needs: ["monitoring"], public: true, label: "monitoringNav.public", group: "government", order: 370,
          icon: "M12 4.5C7 4.5 2.7 7.6 1 12c1.7 4.4 6 7.5 11 7.5s9.3-3.1 11-7.5c-1.7-4.4-6-7.5-11-7.5zM12 17a5 5 0 1 1 0-10 5 5 0 0 1 0 10zm0-8a3 3 0 1 0 0 6 3 3 0 0 0 0-6z"}},
];

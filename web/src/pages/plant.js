// Plant pages: the live overview, the series explorer, device health and alarms.
export default [
  {path: "/overview", name: "overview", component: () => import("../views/emissions/OverviewView.vue"),
   meta: {needs: ["emissions"], label: "nav.overview", group: "plant", order: 100,
          icon: "M3 13h8V3H3zm0 8h8v-6H3zm10 0h8V11h-8zm0-18v6h8V3z"}},
  {path: "/series", name: "series", component: () => import("../views/telemetry/SeriesView.vue"),
   meta: {needs: ["series", "devices"], label: "nav.series", group: "plant", order: 110,
          icon: "M3.5 18.5 9.5 12.5l4 4L22 6.9 20.6 5.5l-7.1 8-4-4L2 17z"}},
  {path: "/devices", name: "devices", component: () => import("../views/registry/DeviceHealthView.vue"),
   meta: {needs: ["devices"], label: "nav.devices", group: "plant", order: 120,
          icon: "M4 4h16v10H4zm2 2v6h12V6zM8 18h8v2H8zm3-3h2v3h-2z"}},
  {path: "/alarms", name: "alarms", component: () => import("../views/alarms/AlarmsView.vue"),
   meta: {needs: ["alarms"], label: "nav.alarms", group: "plant", order: 130,
          icon: "M12 22a2 2 0 0 0 2-2h-4a2 2 0 0 0 2 2zm6-6V11a6 6 0 0 0-5-5.9V4h-2v1.1A6 6 0 0 0 6 11v5l-2 2v1h16v-1z"}},
];

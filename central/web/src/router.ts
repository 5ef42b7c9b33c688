// Every page but the overview loads on first visit, so the first page carries only its own code.
import { createRouter, createWebHistory, type RouteRecordRaw } from "vue-router";
import { session } from "./api";
import Overview from "./pages/Overview.vue";

export const MENU = [
  { path: "/", title: "总览" },
  { path: "/depots", title: "库点/仓房" },
  { path: "/intake", title: "出入库" },
  { path: "/stock", title: "库存" },
  { path: "/counts", title: "账实核对" },
  { path: "/plans", title: "储备计划" },
  { path: "/alarms", title: "预警" },
  { path: "/inspections", title: "检查" },
  { path: "/approvals", title: "审批" },
  { path: "/reports", title: "报表" },
  { path: "/video", title: "视频" },
  { path: "/devices", title: "设备" },
];

const routes: RouteRecordRaw[] = [
  { path: "/login", component: () => import("./pages/Login.vue"), meta: { title: "登录", public: true } },
  { path: "/", component: Overview, meta: { title: "总览" } },
  { path: "/depots", component: () => import("./pages/Depots.vue"), meta: { title: "库点/仓房" } },
  { path: "/depot/:depot", component: () => import("./pages/Depot.vue"), props: true, meta: { title: "库点" } },
  { path: "/granary/:depot/:granary", component: () => import("./pages/Granary.vue"), props: true, meta: { title: "仓房粮情" } },
  { path: "/intake", component: () => import("./pages/Intake.vue"), meta: { title: "出入库" } },
  { path: "/batch/:code", component: () => import("./pages/Batch.vue"), props: true, meta: { title: "批次" } },
  { path: "/stock", component: () => import("./pages/Stock.vue"), meta: { title: "库存" } },
  { path: "/lot/:lot", component: () => import("./pages/Lot.vue"), props: true, meta: { title: "货位" } },
  { path: "/counts", component: () => import("./pages/Counts.vue"), meta: { title: "账实核对" } },
  { path: "/plans", component: () => import("./pages/Plans.vue"), meta: { title: "储备计划" } },
  { path: "/alarms", component: () => import("./pages/Alarms.vue"), meta: { title: "预警" } },
  { path: "/alarm/:id", component: () => import("./pages/Alarm.vue"), props: true, meta: { title: "预警处置" } },
  { path: "/inspections", component: () => import("./pages/Inspections.vue"), meta: { title: "检查" } },
  { path: "/approvals", component: () => import("./pages/Approvals.vue"), meta: { title: "审批" } },
  { path: "/reports", component: () => import("./pages/Reports.vue"), meta: { title: "报表" } },
  { path: "/video", component: () => import("./pages/Video.vue"), meta: { title: "视频" } },
  { path: "/devices", component: () => import("./pages/Devices.vue"), meta: { title: "设备" } },
  { path: "/:rest(.*)*", component: () => import("./pages/NotFound.vue"), meta: { title: "页面不存在" } },
];

export const router = createRouter({ history: createWebHistory("/"), routes });

router.beforeEach((to) => {
  if (!to.meta.public && !session.token) return { path: "/login", query: { next: to.fullPath } };
  return true;
});

router.afterEach((to) => {
  document.title = `${(to.meta.title as string) ?? ""} · grainlink 粮情监测`;
});

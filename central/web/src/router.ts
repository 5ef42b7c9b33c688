// Every page but the overview loads on first visit, so the first page carries only its own code.
import { createRouter, createWebHistory, type RouteRecordRaw } from "vue-router";
import { session } from "./api";
import { NOT_FOUND, PAGES } from "./pageLoaders";
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
  { path: "/login", component: PAGES["/login"], meta: { title: "登录", public: true } },
  { path: "/", component: Overview, meta: { title: "总览" } },
  { path: "/depots", component: PAGES["/depots"], meta: { title: "库点/仓房" } },
  { path: "/depot/:depot", component: PAGES["/depot/:depot"], props: true, meta: { title: "库点" } },
  { path: "/granary/:depot/:granary", component: PAGES["/granary/:depot/:granary"], props: true, meta: { title: "仓房粮情" } },
  { path: "/intake", component: PAGES["/intake"], meta: { title: "出入库" } },
  { path: "/batch/:code", component: PAGES["/batch/:code"], props: true, meta: { title: "批次" } },
  { path: "/stock", component: PAGES["/stock"], meta: { title: "库存" } },
  { path: "/lot/:lot", component: PAGES["/lot/:lot"], props: true, meta: { title: "货位" } },
  { path: "/counts", component: PAGES["/counts"], meta: { title: "账实核对" } },
  { path: "/plans", component: PAGES["/plans"], meta: { title: "储备计划" } },
  { path: "/alarms", component: PAGES["/alarms"], meta: { title: "预警" } },
  { path: "/alarm/:id", component: PAGES["/alarm/:id"], props: true, meta: { title: "预警处置" } },
  { path: "/inspections", component: PAGES["/inspections"], meta: { title: "检查" } },
  { path: "/approvals", component: PAGES["/approvals"], meta: { title: "审批" } },
  { path: "/reports", component: PAGES["/reports"], meta: { title: "报表" } },
  { path: "/video", component: PAGES["/video"], meta: { title: "视频" } },
  { path: "/devices", component: PAGES["/devices"], meta: { title: "设备" } },
  { path: "/:rest(.*)*", component: NOT_FOUND, meta: { title: "页面不存在" } },
];

export const router = createRouter({ history: createWebHistory("/"), routes });

router.beforeEach((to) => {
  if (!to.meta.public && !session.token) return { path: "/login", query: { next: to.fullPath } };
  return true;
});

router.afterEach((to) => {
  document.title = `${(to.meta.title as string) ?? ""} · grainlink 粮情监测`;
});

// first: the first page's API requests leave before the rest of the code initialises (early.ts)
import "./early";
import "element-plus/theme-chalk/base.css";
import "./style.css";
import { createApp } from "vue";
import App from "./App.vue";
import { router } from "./router";

createApp(App).use(router).mount("#app");

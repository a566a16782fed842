// The carbonflow web app: sign in, then the pages the role may use (router.js), in Chinese or English.
import {handoff} from "./handoff.js";  // first: before the router reads the address
import "element-plus/dist/index.css";
import "./style.css";
import {createApp} from "vue";
import App from "./App.vue";
import {i18n} from "./i18n.js";
import {router} from "./router.js";

createApp(App, {handoff}).use(i18n).use(router).mount("#app");

// The carbonflow web app: sign in, then the pages the role may use (router.js), in Chinese or English.
import "element-plus/dist/index.css";
import "./style.css";
import {createApp} from "vue";
import App from "./App.vue";
import {i18n} from "./i18n.js";
import {router} from "./router.js";

// Single sign-on comes back as /#sso=<handoff>: take the code before the router reads the address as a route
const handoff = location.hash.startsWith("#sso=") ? location.hash.slice("#sso=".length) : null;
if (handoff !== null) history.replaceState(null, "", location.pathname + location.search);

createApp(App, {handoff}).use(i18n).use(router).mount("#app");

// vue-i18n with Chinese (the default) and English side by side; the choice is remembered in localStorage.
import {createI18n} from "vue-i18n";
import en from "./locales/en/index.js";
import zhCN from "./locales/zh-CN/index.js";

const LANG_KEY = "carbonflow-lang";
export const LANGUAGES = ["zh-CN", "en"];

function remembered() {
  const saved = localStorage.getItem(LANG_KEY);
  return LANGUAGES.includes(saved) ? saved : "zh-CN";
}

export const i18n = createI18n({
  legacy: false,
  locale: remembered(),
  fallbackLocale: "en",
  messages: {"zh-CN": zhCN, en},
  missingWarn: false,
  fallbackWarn: false,
});

const {t, te} = i18n.global;
export {t};

export function lang() { return i18n.global.locale.value; }

/** The locale of dates and times: zh-CN, or day-month English. */
export function locale() { return lang() === "zh-CN" ? "zh-CN" : "en-GB"; }

/** Switch language, remember it, and mark the document's language. */
export function setLang(next) {
  if (!LANGUAGES.includes(next)) return;
  i18n.global.locale.value = next;
  localStorage.setItem(LANG_KEY, next);
  document.documentElement.lang = next;
}

document.documentElement.lang = remembered();

/** A process, activity or product name as people say it (its key when the app has no words for it). */
export function term(name) {
  const key = `term.${name ? name.replace(/^production:/, "") : "unassigned"}`;
  return te(key) || te(key, "en") ? t(key) : name;
}

/** An enum value from the API (role, point kind, status...) in words, never the raw key when known. */
export function word(group, value) {
  const key = `${group}.${value}`;
  return te(key) || te(key, "en") ? t(key) : value;
}

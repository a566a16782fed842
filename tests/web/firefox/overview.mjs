// Log in to the dashboard in Debian's firefox-esr (WebDriver BiDi through puppeteer-core), open the overview,
// read its figures from the data-value attributes (the exact numbers the page shows) and save a screenshot.
// Used by tests/web/test_firefox.py, which compares the figures with the API's.
//
//   node overview.mjs '{"base": "http://127.0.0.1:8000", "username": "...", "password": "...",
//                       "screenshot": "/path/firefox-overview.png", "firefox": "/usr/bin/firefox-esr"}'
//
// Prints one JSON object on stdout: {browser, timezone, figures, text, errors}.
import puppeteer from 'puppeteer-core';

const args = JSON.parse(process.argv[2]);
const timeout = args.timeout_ms ?? 30000;

const browser = await puppeteer.launch({
  browser: 'firefox',
  executablePath: args.firefox ?? '/usr/bin/firefox-esr',
  headless: true,
  // the page asks for the overview in the browser's time zone, as a person's browser in Shanghai would
  env: {...process.env, TZ: args.tz ?? 'Asia/Shanghai'},
  extraPrefsFirefox: {'intl.locale.requested': 'en-US', 'browser.shell.checkDefaultBrowser': false},
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(timeout);
  await page.setViewport({width: 1440, height: 900});
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err?.message ?? err)));

  await page.goto(args.base + '/');
  await page.waitForSelector('#login:not([hidden])');
  await page.type('#login-username', args.username);
  await page.type('#login-password', args.password);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#shell:not([hidden])');
  await page.waitForSelector("#kpi-co2[data-value]:not([data-value=''])");
  await page.waitForSelector('#live-pill.live');
  await page.waitForFunction(() => !document.querySelector('#chart-process') ||
                                   document.querySelector('#chart-process canvas') !== null);

  const result = await page.evaluate(() => {
    const value = (sel) => {
      const raw = document.querySelector(sel)?.dataset.value;
      return raw === undefined || raw === '' ? null : Number(raw);
    };
    const rows = (kind) => Object.fromEntries(
      [...document.querySelectorAll(`#table-${kind} tbody tr[data-${kind}]`)]
        .map((tr) => [tr.dataset[kind], (() => { const v = tr.querySelector('td.num')?.dataset.value;
                                                 return v === undefined || v === '' ? null : Number(v); })()]));
    return {
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      figures: {
        power: value('#kpi-power'), co2: value('#kpi-co2'), production: value('#kpi-production'),
        intensity: value('#kpi-intensity'), benchmark: value('#kpi-benchmark'), vs: value('#kpi-vs-benchmark'),
        alarms: value('#kpi-alarms'), process: rows('process'), source: rows('source'),
      },
      text: {co2: document.querySelector('#kpi-co2')?.innerText ?? null},
      charts: document.querySelectorAll('#chart-process canvas').length,
    };
  });
  if (args.screenshot) await page.screenshot({path: args.screenshot, fullPage: true});
  console.log(JSON.stringify({browser: await browser.version(), ...result, errors}));
} finally {
  await browser.close();
}

// Drive the web app in Debian's firefox-esr (WebDriver BiDi through puppeteer-core): sign in, open one page, do what
// its user does there, read the exact figures it shows (data-value attributes) and save a screenshot. Used by
// tests/web/test_firefox.py, which compares what was read with the API's answers.
//
//   node pages.mjs '{"base": "http://127.0.0.1:8000", "username": "...", "password": "...", "page": "overview",
//                    "screenshot": "/path/firefox-overview.png", "firefox": "/usr/bin/firefox-esr"}'
//
// page: overview (figures, live pill, charts) | series (pick a point and a range, read the stats) | devices (unfold a
// device, read statuses). Prints one JSON object on stdout: {browser, timezone, lang, ..., errors}.
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

async function overview(page) {
  await page.waitForSelector("#kpi-co2[data-value]:not([data-value=''])");
  await page.waitForSelector('#live-pill.live');
  await page.waitForSelector('#chart-process canvas');
  return page.evaluate(() => {
    const value = (sel) => {
      const raw = document.querySelector(sel)?.dataset.value;
      return raw === undefined || raw === '' ? null : Number(raw);
    };
    const rows = (kind) => Object.fromEntries(
      [...document.querySelectorAll(`#table-${kind} tbody tr[data-${kind}]`)]
        .map((tr) => [tr.dataset[kind], (() => { const v = tr.querySelector('td.num')?.dataset.value;
                                                 return v === undefined || v === '' ? null : Number(v); })()]));
    return {
      figures: {
        power: value('#kpi-power'), co2: value('#kpi-co2'), production: value('#kpi-production'),
        intensity: value('#kpi-intensity'), benchmark: value('#kpi-benchmark'), vs: value('#kpi-vs-benchmark'),
        alarms: value('#kpi-alarms'), process: rows('process'), source: rows('source'),
      },
      text: {co2: document.querySelector('#kpi-co2')?.innerText ?? null},
      charts: document.querySelectorAll('#chart-process canvas').length,
    };
  });
}

async function series(page) {
  await page.goto(`${args.base}/#/series?device=${args.device}`);
  await page.waitForSelector(`#series-status[data-kind]`);
  await page.waitForFunction((device) => document.querySelector('.series-name')?.textContent.startsWith(device), {},
                             args.device);
  await page.click('#series-point');
  await page.waitForSelector(`.el-select-dropdown__item [data-value='${args.point}']`, {visible: true});
  await page.click(`.el-select-dropdown__item [data-value='${args.point}']`);
  await page.click("#series-range button[data-value='6h']");
  await page.waitForFunction((point) => location.hash.includes(`point=${point}`) && location.hash.includes('range=6h'),
                             {}, args.point);
  await page.waitForSelector('#series-chart canvas');
  await page.waitForFunction(() => Number(document.querySelector('#stat-count')?.dataset.value) > 0);
  return page.evaluate(() => ({
    hash: location.hash,
    count: Number(document.querySelector('#stat-count').dataset.value),
    kind: document.querySelector('#series-status').dataset.kind,
    charts: document.querySelectorAll('#series-chart canvas').length,
  }));
}

async function devices(page) {
  await page.click("#nav a[data-route='devices']");
  await page.waitForSelector(`tr[data-device='${args.device}'] button.toggle`);
  await page.click(`tr[data-device='${args.device}'] button.toggle`);
  await page.waitForSelector('tr.points-row');
  return page.evaluate((device) => ({
    status: document.querySelector(`tr[data-device='${device}']`).dataset.status,
    points: document.querySelectorAll('tr.points-row tbody tr').length,
    gateway: document.querySelector("#gateway-health tr[data-gateway='w-gw']")?.dataset.status ?? null,
  }), args.device);
}

const FLOWS = {overview, series, devices};
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(timeout);
  await page.setViewport({width: 1440, height: 900});
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err?.message ?? err)));

  await page.goto(args.base + '/');
  await page.waitForSelector('#login');
  await page.type('#login-username', args.username);
  await page.type('#login-password', args.password);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#shell');
  const result = await FLOWS[args.page ?? 'overview'](page);
  const context = await page.evaluate(() => ({timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
                                              lang: document.documentElement.lang}));
  if (args.screenshot) await page.screenshot({path: args.screenshot, fullPage: true});
  console.log(JSON.stringify({browser: await browser.version(), ...context, ...result, errors}));
} finally {
  await browser.close();
}

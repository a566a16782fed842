// Drive the web app in Debian's firefox-esr (WebDriver BiDi through puppeteer-core): sign in, open one page, do what
// its user does there, read the exact figures it shows (data-value attributes) and save a screenshot. Used by
// tests/web/test_firefox.py, which compares what was read with the API's answers.
//
//   node pages.mjs '{"base": "http://127.0.0.1:8000", "username": "...", "password": "...", "page": "overview",
//                    "screenshot": "/path/firefox-overview.png", "firefox": "/usr/bin/firefox-esr"}'
//
// page: overview (figures, live pill, charts) | series (pick a point and a range, read the stats) | devices (unfold a
// device, read statuses) | alarms (acknowledge `alarm`) | gateways (read statuses) | audit (filter by `action`) |
// users (create `newUser`, read its one-time password) | tokens (create `tokenName`, read its secret, revoke it) |
// gridFactors (pick input set `inputId`, switch to the generation convention, read each region's factor) |
// projects (filter by kind grid_pv, open project `projectId`, read its stage, each period's ER and a period's factor
// rows, then the assets page's compliance position of `enterprise`).
// Prints one JSON object on stdout: {browser, timezone, lang, ..., errors}.
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

// the row of an Element Plus table that holds the element marked `data-<kind>="<id>"`
const row = (kind, id) => `.el-table__row:has([data-${kind}='${id}'])`;

async function alarms(page) {
  await page.click("#nav a[data-route='alarms']");
  await page.waitForSelector(`${row('alarm', args.alarm)} button.ack`);
  await page.click(`${row('alarm', args.alarm)} button.ack`);
  await page.waitForSelector(`[data-alarm='${args.alarm}'][data-acknowledged='yes']`);
  return page.evaluate(() => ({alarms: document.querySelectorAll('#alarms-table [data-alarm]').length,
                               done: document.querySelector('#alarms-done')?.innerText ?? null}));
}

async function gateways(page) {
  await page.click("#nav a[data-route='gateways']");
  await page.waitForSelector("#gateways-table [data-gateway][data-status]");
  return page.evaluate(() => ({gateways: Object.fromEntries([...document.querySelectorAll('#gateways-table [data-gateway]')]
    .map((el) => [el.dataset.gateway, el.dataset.status]))}));
}

async function audit(page) {
  await page.click("#nav a[data-route='audit']");
  await page.waitForSelector('#audit-table [data-audit]');
  await page.type('#audit-action', args.action);
  await page.click('#audit-search');
  await page.waitForFunction((family) => {
    const actions = [...document.querySelectorAll('#audit-table [data-action]')].map((el) => el.dataset.action);
    return actions.length > 0 && actions.every((a) => a.startsWith(family));
  }, {}, args.action.replace('*', ''));
  return page.evaluate(() => ({count: Number(document.querySelector('#audit-count').dataset.value)}));
}

async function users(page) {
  await page.click("#nav a[data-route='users']");
  await page.waitForSelector('#users-table');
  await page.click('#user-new');
  await page.waitForSelector('#user-username', {visible: true});
  await page.type('#user-username', args.newUser);
  await page.click('#user-submit');  // technician, the default role; no password: a generated one, shown once
  await page.waitForSelector('#once-secret', {visible: true});
  const secret = await page.evaluate(() => document.querySelector('#once-secret').innerText);
  await page.click('#once-close');
  await page.waitForSelector('#once-secret', {hidden: true});
  await page.waitForSelector(`[data-user='${args.newUser}']`);
  return {secret};
}

async function tokens(page) {
  await page.click("#nav a[data-route='tokens']");
  await page.waitForSelector('#tokens-table');
  await page.click('#token-new');
  await page.waitForSelector('#token-name', {visible: true});
  await page.type('#token-name', args.tokenName);
  await page.click('#token-scopes');
  await page.waitForSelector(".el-select-dropdown__item [data-value='devices']", {visible: true});
  await page.click(".el-select-dropdown__item [data-value='devices']");
  await page.keyboard.press('Escape');
  await page.click('#token-submit');
  await page.waitForSelector('#once-secret', {visible: true});
  const secret = await page.evaluate(() => document.querySelector('#once-secret').innerText);
  await page.click('#once-close');
  await page.waitForSelector('#once-secret', {hidden: true});
  const id = await page.evaluate((name) => [...document.querySelectorAll('#tokens-table [data-token]')]
    .find((el) => el.innerText === name && el.dataset.state === 'active').dataset.token, args.tokenName);
  await page.click(`${row('token', id)} button.revoke`);
  await page.waitForSelector('.el-popconfirm__action .el-button--primary', {visible: true});
  await page.click('.el-popconfirm__action .el-button--primary');
  await page.waitForSelector(`[data-token='${id}'][data-state='revoked']`);
  return {secret, token_id: Number(id)};
}

async function gridFactors(page) {
  await page.click("#nav a[data-route='grid-factors']");
  await page.waitForSelector('#grid-input');
  await page.click('.el-select:has(#grid-input) .el-select__wrapper');
  await page.waitForSelector(`.el-select-dropdown__item [data-value='${args.inputId}']`, {visible: true});
  await page.click(`.el-select-dropdown__item [data-value='${args.inputId}']`);
  await page.click("#grid-convention label:has(input[value='generation'])");
  await page.waitForFunction((region, value) => {
    const cell = document.querySelector(`#grid-factors-table b[data-region='${region}']`);
    return cell && Math.abs(Number(cell.dataset.value) - value) < 1e-12;
  }, {}, args.region, args.expected);
  return page.evaluate(() => ({
    factors: Object.fromEntries([...document.querySelectorAll('#grid-factors-table .el-table__body b[data-region]')]
      .map((el) => [el.dataset.region, Number(el.dataset.value)])),
    conserved: document.querySelector('#grid-conservation').dataset.conserved}));
}

async function projects(page) {
  await page.click("#nav a[data-route='projects']");
  await page.waitForSelector('#projects-table');
  await page.click('.el-select:has(#projects-kind) .el-select__wrapper');
  await page.waitForSelector(".el-select-dropdown__item [data-value='grid_pv']", {visible: true});
  await page.click(".el-select-dropdown__item [data-value='grid_pv']");
  const link = `#projects-table a[data-project='${args.projectId}']`;
  await page.waitForSelector(link);
  const kinds = await page.evaluate(() => [...document.querySelectorAll('#projects-table .el-table__row')].length);
  await page.click(link);
  await page.waitForSelector('#periods-table b.er');
  const er = await page.evaluate(() => [...document.querySelectorAll('#periods-table b.er')].map((b) => Number(b.dataset.value)));
  const stage = await page.evaluate(() => document.querySelector('#project-stage').dataset.stage);
  await page.click('#periods-table a[data-period]');
  await page.waitForSelector('#period-factors .badge');
  const factors = await page.evaluate(() => [...document.querySelectorAll('#period-factors .badge')].map((b) => b.innerText.trim()));
  await page.click('.el-dialog__headerbtn');
  await page.waitForSelector('#period-factors', {hidden: true});
  await page.goto(`${args.base}/#/assets`);  // as one opens a bookmarked page
  await page.waitForSelector("#cp-allowances[data-value]");
  const allowances = await page.evaluate(() => Number(document.querySelector('#cp-allowances').dataset.value));
  return {rows: kinds, er, stage, factors, allowances};
}

const FLOWS = {overview, series, devices, alarms, gateways, audit, users, tokens, gridFactors, projects};
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

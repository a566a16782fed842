// Drive the web app in Debian's firefox-esr (WebDriver BiDi through puppeteer-core): sign in, open one page, do what
// its user does there, read the exact figures it shows (data-value attributes) and save a screenshot. Used by
// tests/web/test_firefox.py, which compares what was read with the API's answers.
//
//   node pages.mjs '{"base": "http://127.0.0.1:8000", "username": "...", "password": "...", "page": "overview",
//                    "screenshot": "/path/firefox-overview.png", "firefox": "/usr/bin/firefox-esr"}'
//
// page, one per line:
//   overview (figures, live pill, charts) | series (pick a point and a range, read the stats)
//   devices (unfold a device, read statuses) | alarms (acknowledge `alarm`)
//   gateways (register `newGateway` at `site`, read its row, revoke it) | audit (filter by `action`, read the total)
//   users (create `newUser`, read its one-time password, then make it an enterprise user of `enterprise`)
//   tokens (create `tokenName`, read its secret, revoke it)
//   gridFactors (pick input set `inputId`, switch to the generation convention, read each region's factor)
//   emissions (trace `source` at `site` to its factor rows and an hour's readings) | factors (filter to `key`)
//   activity (enter `quantity` of natural gas in the form and submit it) | reports (open `report` and take `action`)
//   monitoring (drill from the province into `region`, read its rows, switch the map to intensity)
//   monitoringSync (create source `source` reading `urlEnv` with `query`, run it, then set its interval to `interval`)
//   public (the public institutions' page, opened without signing in)
//   efficiency (a government user's 碳效码 by county, then by industry, then one unit's carbon account)
//   enterpriseAnalysis (the by-process decomposition and scenario peaks of `site`)
//   targets (open an issued target's assessment) | reductionPotential (an enterprise year's process potentials)
//   bigscreen (open it from the menu at 1920x1080, read its figures)
//   projects (filter by kind, open project `projectId`, read its stage, reductions and factor rows, then allowances)
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
      [...document.querySelectorAll(`#table-${kind} .el-table__body [data-${kind}]`)]
        .map((el) => [el.dataset[kind], (() => { const v = el.closest('tr').querySelector('.num[data-value]')?.dataset.value;
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
  await page.waitForSelector(`tr:has([data-device='${args.device}']) .el-table__expand-icon`);
  await page.click(`tr:has([data-device='${args.device}']) .el-table__expand-icon`);
  await page.waitForSelector('.points-row .el-table__row');
  return page.evaluate((device) => ({
    status: document.querySelector(`#device-health [data-device='${device}']`).dataset.status,
    points: document.querySelectorAll('.points-row .el-table__row').length,
    gateway: document.querySelector("#gateway-health [data-gateway='w-gw']")?.dataset.status ?? null,
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

async function choose(page, select, value) {
  await page.click(`.el-select:has(${select}) .el-select__wrapper`);
  await page.waitForSelector(`.el-select-dropdown__item [data-value='${value}']`, {visible: true});
  // a click by the element, not by coordinates: in a long list that has to scroll, a click at the option's
  // coordinates could land on its neighbour in Firefox
  await page.evaluate((sel) => [...document.querySelectorAll(sel)].find((el) => el.offsetParent !== null)
    .closest('.el-select-dropdown__item').click(), `.el-select-dropdown__item [data-value='${value}']`);
}

async function gateways(page) {
  const id = args.newGateway;
  await page.click("#nav a[data-route='gateways']");
  await page.waitForSelector('#gateways-table');
  await page.click('#gateway-add');
  await page.waitForSelector('#gateway-id', {visible: true});
  await page.type('#gateway-id', id);
  await choose(page, '#gateway-site', args.site);
  await page.click('#gateway-submit');
  await page.waitForSelector('#gateways-done');
  await page.waitForSelector(`${row('gateway', id)} [data-registry='active']`);
  const registered = await page.evaluate((sel) => ({
    status: document.querySelector(`${sel} [data-gateway]`).dataset.status,
    expires: document.querySelector(`${sel} .cert-expires`)?.dataset.value ?? null,
    rows: document.querySelectorAll('#gateways-table [data-gateway]').length,
  }), row('gateway', id));
  // the actions column is sticky at the table's right edge: click the button itself, wherever the table is scrolled
  await page.evaluate((sel) => document.querySelector(sel).click(), `${row('gateway', id)} button.gateway-revoke`);
  await page.waitForSelector('#revoke-submit', {visible: true});
  await page.click('#revoke-submit');
  await page.waitForSelector(`${row('gateway', id)} [data-registry='revoked']`);
  return {registered};
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
  await page.type('#users-filter', args.newUser);
  await page.waitForSelector(`[data-user='${args.newUser}']`);
  await page.click(`${row('user', args.newUser)} button.scope-edit`);
  await choose(page, '#user-role', 'enterprise');
  await page.waitForSelector('#user-enterprise', {visible: true});
  await page.type('#user-enterprise', args.enterprise);
  await page.click('#user-submit');
  await page.waitForSelector(`${row('user', args.newUser)} [data-role='enterprise']`);
  return {secret, done: await page.evaluate(() => document.querySelector('#users-done').innerText)};
}

async function tokens(page) {
  await page.click("#nav a[data-route='tokens']");
  await page.waitForSelector('#tokens-table');
  await page.click('#token-new');
  await page.waitForSelector('#token-name', {visible: true});
  await page.type('#token-name', args.tokenName);
  await choose(page, '#token-scopes', 'devices');
  // close the list by clicking outside it, not by Escape: in Firefox the focus leaves the select when an option
  // is clicked, so Escape reached the dialog and closed it before the submit
  await page.click('#token-name');
  await page.waitForSelector(".el-select-dropdown__item [data-value='devices']", {hidden: true});
  await page.waitForSelector('.el-select:has(#token-scopes) .el-tag');
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
  await choose(page, '#grid-input', args.inputId);  // a long list late in a run: chosen by the element
  // the list's closing animation can still cover the switch: click the radio itself until it holds
  await page.waitForFunction(() => {
    const radio = document.querySelector("#grid-convention input[value='generation']");
    if (!radio.checked) radio.closest('label').click();
    return radio.checked;
  }, {polling: 200});
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

// targets: open an issued target, switch to its assessment and read each holder's result and the state line
async function targets(page) {
  await page.click("#nav a[data-route='targets']");
  await page.waitForSelector(`#target-list a[data-target='${args.targetId}']`);
  await page.click(`#target-list a[data-target='${args.targetId}']`);
  await page.waitForSelector("#target-detail[data-state='issued']");
  await page.click("#target-tabs .el-tabs__item#tab-assessment");
  await page.waitForSelector('#assessment-table .el-table__body .el-table__row', {visible: true});
  return page.evaluate(() => ({
    holders: Object.fromEntries([...document.querySelectorAll('#assessment-table .el-table__body [data-holder]')]
      .map((el) => [el.dataset.holder, el.dataset.met === '' ? null : el.dataset.met === 'true'])),
    rows: document.querySelectorAll('#assessment-table .el-table__body .el-table__row').length,
    state: document.querySelector('#assessment-state').innerText.trim()}));
}

// reductionPotential: pick an enterprise year and read each process's status and the total saved at the benchmark
async function reductionPotential(page) {
  await page.click("#nav a[data-route='reduction-potential']");
  await page.waitForSelector('#potential-year');
  await choose(page, '#potential-year', args.choice);
  await page.waitForSelector("#potential-table [data-process='auxiliary']");
  return page.evaluate(() => ({
    statuses: Object.fromEntries([...document.querySelectorAll('#potential-table [data-process]')]
      .map((el) => [el.dataset.process, el.dataset.status])),
    toBenchmark: Number(document.querySelector('#potential-benchmark').dataset.value)}));
}

// the big screen at wall size, reached from the menu: its figures, its charts, and whether the menu is gone
async function bigscreen(page) {
  await page.setViewport({width: 1920, height: 1080});
  await page.click("#nav a[data-route='bigscreen']");
  await page.waitForSelector("#bs-co2[data-value]:not([data-value=''])");
  await page.waitForSelector('#bs-chart-hourly canvas');
  return page.evaluate(() => {
    const value = (sel) => Number(document.querySelector(sel).dataset.value);
    return {figures: {co2: value('#bs-co2'), intensity: value('#bs-intensity'), alarms: value('#bs-alarms')},
            menu: document.querySelectorAll('#nav').length,
            charts: document.querySelectorAll('#bigscreen canvas').length};
  });
}

// emissions: open `site`'s figure of `source` from the table, then its last hour; read what each step shows
async function emissions(page) {
  await page.goto(`${args.base}/#/emissions?site=${args.site}`);
  await page.waitForSelector(`#emissions-table [data-source='${args.source}']`);
  const total = await page.evaluate(() => Number(document.querySelector('#emissions-total').dataset.value));
  await page.click(`#emissions-table .el-table__row:has([data-source='${args.source}']) button.trace`);
  await page.waitForSelector('#provenance-factors [data-factor]');
  const figure = await page.evaluate(() => ({
    tco2: Number(document.querySelector('#provenance-tco2').dataset.value),
    factors: [...document.querySelectorAll('#provenance-factors [data-factor]')].map((el) => el.dataset.factor),
    hours: [...document.querySelectorAll('#provenance-hours [data-hour]')].map((el) => el.dataset.hour),
  }));
  const buttons = await page.$$('#provenance-hours .open-hour');
  await buttons[buttons.length - 1].click();
  await page.waitForSelector('#provenance-intervals [data-interval]');
  const hour = await page.evaluate(() => ({
    hour: document.querySelector('#provenance-hour').dataset.hour,
    intervals: document.querySelectorAll('#provenance-intervals [data-interval]').length,
    matching: document.querySelectorAll("#provenance-intervals .recomputed[data-matches='yes']").length,
    readings: document.querySelectorAll('#provenance-hour .readings [data-reading]').length,
  }));
  return {total, figure, hour};
}

// factors: the factor library filtered to `key`, its versions' status and publisher as shown
async function factors(page) {
  await page.click("#nav a[data-route='factors']");
  await page.waitForSelector('#factor-table [data-factor]');
  await page.type('#factor-key', args.key);
  await page.waitForFunction((key) => [...document.querySelectorAll('#factor-table [data-factor]')]
    .every((el) => el.dataset.factor.startsWith(`${key}@`)), {}, args.key);
  return page.evaluate(() => ({versions: Object.fromEntries([...document.querySelectorAll('#factor-table .el-table__row')]
    .map((tr) => [tr.querySelector('[data-factor]').dataset.factor, {
      status: tr.querySelector('[data-status]').dataset.status,
      publisher: tr.querySelector('.publisher').innerText}]))}));
}

async function activity(page) {
  await page.click("#nav a[data-route='activity']");
  await page.waitForSelector('#activity-form');
  await page.click('.el-select:has(#activity-item) .el-select__wrapper');
  await page.waitForSelector(".el-select-dropdown__item [data-value='natural_gas']", {visible: true});
  await page.click(".el-select-dropdown__item [data-value='natural_gas']");
  await page.type('.entry-form .el-input-number input', String(args.quantity));
  await page.click('#activity-add');
  await page.waitForSelector('#pending-lines .el-table__row');
  await page.click('#activity-submit');
  await page.waitForSelector('#activity-done');
  return page.evaluate(() => ({done: document.querySelector('#activity-done').innerText,
                               versions: [...document.querySelectorAll('#activity-versions [data-version]')]
                                 .map((el) => Number(el.dataset.version))}));
}

async function reports(page) {
  await page.click("#nav a[data-route='reports']");
  await page.waitForSelector('#reports-search');
  await page.type('#reports-search', args.report);  // other tests' reports fill the first pages
  await page.waitForSelector(`[data-report='${args.report}']`);
  await page.click(`${row('report', args.report)} .open-report`);
  await page.waitForSelector(`#report-detail .action-${args.action}`);
  const offered = await page.evaluate(() => [...document.querySelectorAll('#report-detail .report-action')]
    .map((el) => el.dataset.action));
  await page.click(`#report-detail .action-${args.action}`);
  await page.waitForSelector(`#report-detail[data-state='${args.expect}']`);
  return {offered, state: await page.evaluate(() => document.querySelector('#report-detail').dataset.state)};
}

async function monitoring(page) {
  await page.click("#nav a[data-route='monitoring-regions']");
  await page.waitForSelector(`#mon-rows button.drill[data-row='${args.region}']`);
  await page.click(`#mon-rows button.drill[data-row='${args.region}']`);
  // the region's own rows (its sub-regions) have replaced the province's
  await page.waitForFunction((region) => {
    const keys = [...document.querySelectorAll('#mon-rows [data-co2]')].map((el) => el.dataset.co2);
    return keys.length > 0 && !keys.includes(region);
  }, {}, args.region);
  const rows = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#mon-rows [data-co2]')]
    .map((el) => [el.dataset.co2, Number(el.dataset.value)])));
  const synthetic = await page.evaluate(() => document.querySelectorAll('.synthetic-note').length);
  const year = await page.evaluate(() => Number(document.querySelector('#mon-year').value));
  await page.click("#nav a[data-route='monitoring-map']");
  await page.waitForSelector("#map-holder[data-metric='co2'] canvas");
  await page.click("#map-metric button[data-value='intensity']");
  await page.waitForSelector("#map-holder[data-metric='intensity'] canvas");
  return {rows, synthetic, year, metric: await page.evaluate(() => document.querySelector('#map-holder').dataset.metric)};
}

async function publicPage(page) {
  await page.waitForSelector('#public-frame #pub-table .el-table__row');
  return page.evaluate(() => ({count: Number(document.querySelector('#pub-count').dataset.value),
                               year: Number(document.querySelector('#pub-year').value),
                               login: document.querySelectorAll('#login').length}));
}

async function efficiency(page) {
  await page.click("#nav a[data-route='efficiency']");
  await page.waitForSelector("#eff-spread[data-by='region'] tr[data-group]");
  const counties = await page.evaluate(() => [...document.querySelectorAll('#eff-spread tr[data-group]')]
    .map((tr) => tr.dataset.group));
  await page.click('#eff-by label:nth-child(2)');
  await page.waitForSelector("#eff-spread[data-by='industry'] tr[data-group]");
  const industries = await page.evaluate(() => [...document.querySelectorAll('#eff-spread tr[data-group]')]
    .map((tr) => tr.dataset.group));
  await page.waitForSelector('#eff-spread-chart canvas');
  // the grade map: the demo prefecture's counties with their grade counts
  await page.click('#eff-by label:nth-child(3)');
  await page.waitForSelector("#eff-map-holder[data-region='330500'] canvas");
  await page.waitForSelector('#eff-map-table tr[data-region]');
  const mapped = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#eff-map-table tr[data-region]')]
    .map((tr) => [tr.dataset.region, Number(tr.querySelector("td[data-grade='5']").textContent)])));
  const unit = await page.evaluate(() => document.querySelector('#eff-table [data-unit]').dataset.unit);
  await page.click(`#eff-table [data-unit='${unit}']`);
  await page.waitForSelector("#acct-code[data-code]:not([data-code=''])");
  const shown = await page.evaluate(() => ({hash: location.hash,
                                            code: document.querySelector('#acct-code').dataset.code}));
  return {counties, industries, mapped, unit: Number(unit), ...shown};
}

// enterpriseAnalysis: `site`'s decomposition from `from` to `to` (months), then the forecast tab's peaks
async function enterpriseAnalysis(page) {
  await page.goto(`${args.base}/#/enterprise-analysis?site=${args.site}&base=${args.from}&target=${args.to}`);
  await page.waitForSelector('#ea-change');
  const effects = await page.evaluate(() => ({
    change: Number(document.querySelector('#ea-change').dataset.value),
    effects: Object.fromEntries([...document.querySelectorAll('[data-effect]')]
      .map((el) => [el.dataset.effect, Number(el.dataset.value)])),
    processes: document.querySelectorAll('#ea-processes .el-table__body tr').length}));
  await page.click('#tab-forecast');
  await page.waitForSelector("#ea-peaks [data-scenario='baseline']");
  const peaks = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#ea-peaks [data-scenario]')]
    .map((el) => [el.dataset.scenario, Number(el.innerText)])));
  return {...effects, peaks, yearEnd: await page.evaluate(() => Number(document.querySelector('#ea-year-end').dataset.value))};
}

// monitoringSync: an administrator creates a sync source in the dialog, runs it now, then edits its interval
async function monitoringSync(page) {
  const sourceRow = `#sync-table .el-table__row:has([data-source='${args.source}'])`;
  // the actions column is sticky at the table's right edge: click the button itself, wherever the table is scrolled
  const press = (sel) => page.evaluate((s) => document.querySelector(s).click(), sel);
  await page.click("#nav a[data-route='monitoring-sync']");
  await page.waitForSelector('#sync-add');
  await page.click('#sync-add');
  await page.waitForSelector('#sync-name', {visible: true});
  await page.type('#sync-name', args.source);
  await choose(page, '#sync-dialect', 'postgresql');
  await page.click('#sync-name');  // close the list by clicking outside it
  await page.waitForSelector(".el-select-dropdown__item [data-value='postgresql']", {hidden: true});
  await page.type('#sync-url-env', args.urlEnv);
  await page.type('#sync-query', args.query);
  await page.click('#sync-submit');
  await page.waitForSelector(sourceRow);
  await press(`${sourceRow} .sync-run`);
  await page.waitForSelector(`#sync-run-result[data-source='${args.source}']`);
  const run = await page.evaluate(() => {
    const data = document.querySelector('#sync-run-result').dataset;
    return {rows: Number(data.rows), stored: Number(data.stored), unchanged: Number(data.unchanged),
            refused: Number(data.refused)};
  });
  await press(`${sourceRow} .sync-edit`);
  await page.waitForSelector('#sync-interval', {visible: true});
  await page.evaluate(() => document.querySelector('#sync-interval').select());
  await page.keyboard.press('Backspace');
  await page.type('#sync-interval', String(args.interval));
  await page.click('#sync-submit');
  await page.waitForSelector(`${sourceRow} .sync-interval[data-value='${args.interval}']`);
  await page.waitForSelector('#sync-form', {hidden: true});  // the dialog has faded out before the screenshot
  const shown = await page.evaluate((sel) => ({
    interval: Number(document.querySelector(`${sel} .sync-interval`).dataset.value),
    watermark: document.querySelector(`${sel} .sync-watermark`).dataset.value,
    done: document.querySelector('#sync-done')?.innerText ?? null,
  }), sourceRow);
  return {run, ...shown};
}

// one flow per line (a new page adds its own line)
const FLOWS = {
  overview,
  series,
  devices,
  alarms,
  gateways,
  audit,
  users,
  tokens,
  gridFactors,
  projects,
  targets,
  reductionPotential,
  bigscreen,
  emissions,
  factors,
  activity,
  reports,
  monitoring,
  monitoringSync,
  public: publicPage,
  efficiency,
  enterpriseAnalysis,
};
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(timeout);
  await page.setViewport({width: 1440, height: 900});
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err?.message ?? err)));

  if (args.page === 'public') {
    await page.goto(args.base + '/#/public/institutions');  // no sign-in: the page is public
  } else {
    await page.goto(args.base + '/');
    await page.waitForSelector('#login');
    await page.type('#login-username', args.username);
    await page.type('#login-password', args.password);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#shell');
  }
  const result = await FLOWS[args.page ?? 'overview'](page);
  const context = await page.evaluate(() => ({timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
                                              lang: document.documentElement.lang}));
  if (args.screenshot) await page.screenshot({path: args.screenshot, fullPage: true});
  console.log(JSON.stringify({browser: await browser.version(), ...context, ...result, errors}));
} finally {
  await browser.close();
}

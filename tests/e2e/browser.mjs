// GraphiQL in headless Chromium: open BASE_URL/graphql as a browser does, type a query for a
// sample article, run it, and wait for the article's title in the result pane. Fails (with a
// screenshot) on a missing title, on any failed request or console error, and on any request
// to a host other than BASE_URL's: the page must work with no network beyond this server.
// Run: tests/e2e/run browser.mjs
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

const BASE_URL = process.env.BASE_URL;
if (!BASE_URL) {
  console.error('BASE_URL is not set; run this through tests/e2e/run');
  process.exit(2);
}
const origin = new URL(BASE_URL).origin;

// samples/woshipm-6183097.md, imported with its file name as slug.
const SLUG = 'woshipm-6183097';
const TITLE = '写在DeepSeek持续发酵背后：中国互联网大厂的想象力还在吗？';
const QUERY = `{ article(slug: "${SLUG}") { title } }`;
const STEP_TIMEOUT_MS = 10_000;

const problems = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-quic',
    '--no-first-run',
    '--disable-component-update',
    '--disable-sync',
  ],
});
// Whatever happens below, never outlive the runner's budget.
const watchdog = setTimeout(() => fail('gave up after 25 s'), 25_000);
const page = await browser.newPage();
page.setDefaultTimeout(STEP_TIMEOUT_MS);

page.on('request', (req) => {
  const url = new URL(req.url());
  if (url.protocol !== 'data:' && url.origin !== origin) {
    problems.push(`request to another host: ${req.method()} ${req.url()}`);
  }
});
page.on('requestfailed', (req) => {
  problems.push(`request failed: ${req.method()} ${req.url()}: ${req.failure()?.errorText}`);
});
page.on('response', (resp) => {
  if (resp.status() >= 400) problems.push(`HTTP ${resp.status()}: ${resp.url()}`);
});
page.on('console', (msg) => {
  if (msg.type() === 'error') {
    const at = msg.location()?.url;
    problems.push(`console error: ${msg.text()}${at ? ` (${at})` : ''}`);
  }
});
page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));

async function fail(message) {
  clearTimeout(watchdog);
  const shot = join(mkdtempSync(join(tmpdir(), 'graphiql-e2e-')), 'failure.png');
  try {
    await page.screenshot({ path: shot, fullPage: true });
    console.error(`screenshot: ${shot}`);
  } catch (e) {
    console.error(`no screenshot: ${e.message}`);
  }
  console.error(`FAIL: ${message}`);
  for (const p of problems) console.error(`  ${p}`);
  await browser.close().catch(() => {});
  process.exit(1);
}

async function step(what, action) {
  try {
    return await action();
  } catch (e) {
    return fail(`${what}: ${e.message.split('\n')[0]}`);
  }
}

const started = Date.now();
await step(`open ${BASE_URL}/graphql`, async () => {
  const resp = await page.goto(`${BASE_URL}/graphql`);
  const type = resp.headers()['content-type'] ?? '';
  if (!type.startsWith('text/html')) throw new Error(`got ${resp.status()} ${type}, not a page`);
});

const editor = page.locator('.graphiql-query-editor .CodeMirror');
await step('find the query editor', () => editor.waitFor({ state: 'visible' }));
await step('type the query', async () => {
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(QUERY);
  // The editor closes brackets and quotes itself; check that typing left exactly the query.
  const text = await editor.evaluate((el) => el.CodeMirror.getValue());
  if (text !== QUERY) throw new Error(`the editor holds ${JSON.stringify(text)}`);
});
await step('click the run button', () =>
  page.getByRole('button', { name: /execute query/i }).click(),
);
await step(`wait for "${TITLE}" in the result pane`, () =>
  page.waitForFunction(
    (expected) =>
      document.querySelector('.graphiql-response')?.textContent.includes(expected),
    `"title": "${TITLE}"`,
  ),
);

if (problems.length > 0) await fail('the page had problems');
clearTimeout(watchdog);
await browser.close();
console.log(`ok: GraphiQL ran ${QUERY} and showed "${TITLE}" (${Date.now() - started} ms)`);

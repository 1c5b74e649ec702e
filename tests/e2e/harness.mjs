// Shared by the end-to-end test files: one Chromium and one static server per file, pages that record every
// sign of trouble, and helpers that drive the playground through accessible names only.

import { after, before } from 'node:test';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startStaticServer } from './static-server.mjs';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DIST = `${ROOT}dist`;
export const SHOTS = `${ROOT}target/e2e`;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];
export const RENDER_TIMEOUT_MS = 20_000;
/** How long the cluster may take to do something visible (elect, replicate), in real time at a high speed. */
export const CLUSTER_TIMEOUT_MS = 20_000;

/** Chromium and a server of dist/ (at the root, or under `prefix`, e.g. '/synod'). */
export async function launch({ prefix = '' } = {}) {
  await readFile(`${DIST}/index.html`).catch(() => {
    throw new Error('dist/index.html is missing: build first with `trunk build --release` (or scripts/test build)');
  });
  const server = await startStaticServer(DIST, { prefix });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  await mkdir(SHOTS, { recursive: true });
  return { server, browser };
}

/**
 * Serves dist/ and launches Chromium before a test file's tests, and closes both after them: call once at the
 * top of the file. The returned object's `server` and `browser` are set once the tests start.
 */
export function launchedForThisFile(options) {
  const env = { server: null, browser: null };
  before(async () => Object.assign(env, await launch(options)));
  after(async () => {
    await env.browser?.close();
    await env.server?.close();
  });
  return env;
}

/**
 * Opens `url` in a fresh context (or in `context`, to share its IndexedDB) and records console errors, uncaught
 * exceptions and failed requests of the page and its frames. Waits for the playground's heading unless
 * `waitForApp` is false (a docs page, an embed).
 *
 * `missing` lists URLs a test fetches knowing they answer 404 (an author's scenario file that is not there): for
 * exactly those, the 404 response and the browser's own console line about it ("Failed to load resource: … 404")
 * are expected, not problems. Anything else, for those URLs too, still is.
 */
export async function openPage(
  browser,
  url,
  { colorScheme = 'light', width = 1280, height = 900, waitForApp = true, context: shared, missing = [] } = {},
) {
  const context = shared ?? (await browser.newContext({ colorScheme, viewport: { width, height } }));
  const page = await context.newPage();
  const problems = [];
  const expected404 = (at, status) => status === 404 && missing.includes(at);
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const browsers404 = /^Failed to load resource: the server responded with a status of 404 \(Not Found\)$/;
    if (browsers404.test(message.text()) && expected404(message.location().url, 404)) return;
    problems.push(`console.error: ${message.text()} (at ${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught exception: ${error.message}`));
  page.on('requestfailed', (request) =>
    problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`),
  );
  page.on('response', (response) => {
    if (response.status() >= 400 && !expected404(response.url(), response.status())) {
      problems.push(`HTTP ${response.status()}: ${response.url()}`);
    }
  });
  await page.goto(url);
  if (waitForApp) await page.getByRole('heading', { level: 1, name: 'Synod' }).waitFor({ timeout: RENDER_TIMEOUT_MS });
  return { page, context, problems };
}

/** Polls `check` (async, returns a truthy value when done) until it holds or `timeout` ms pass. */
export async function until(check, what, timeout = CLUSTER_TIMEOUT_MS) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

export async function setSpeed(page, ticksPerSecond) {
  await page.getByLabel('Speed').selectOption(String(ticksPerSecond));
}

/** The id of the node whose card says "leader", or null. */
export async function leader(page) {
  const cards = page.locator('article.node-card.role-leader');
  if ((await cards.count()) !== 1) return null;
  const label = await cards.first().getAttribute('aria-label');
  return Number(label.replace('Node ', ''));
}

export async function kvText(page, node) {
  return page.getByRole('region', { name: `Node ${node} KV store` }).innerText();
}

/** Moves the timeline to tick `at` (time travel) and waits until the page shows it. */
export async function seek(page, at) {
  await page.getByLabel('Timeline').evaluate((input, value) => {
    input.value = String(value);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }, at);
  await until(async () => (await tick(page)) === at, `tick ${at}`);
}

/**
 * Waits until `page` has painted `count` more animation frames. The playground advances its run once a frame, so a
 * state that holds across frames held while the page had every chance to change it: a wait on the page's own
 * clock, not on the wall clock.
 */
export async function animationFrames(page, count) {
  await page.evaluate(
    (count) =>
      new Promise((done) => {
        let left = count;
        const next = () => (--left <= 0 ? done() : requestAnimationFrame(next));
        requestAnimationFrame(next);
      }),
    count,
  );
}

export async function tick(page) {
  const text = await page.locator('.tick').innerText();
  return Number(text.replace('tick ', ''));
}

/** Sends one operation from the client panel. */
export async function submit(page, { target, op = 'put', key, value = '' }) {
  await page.getByLabel(/^Target node/).selectOption(String(target));
  await page.getByLabel(/^Operation/).selectOption(op);
  await page.getByLabel(/^Key/).fill(key);
  if (op === 'put' || op === 'append' || op === 'cas') await page.getByLabel('Value', { exact: true }).fill(value);
  await page.getByRole('button', { name: 'Submit' }).click();
}

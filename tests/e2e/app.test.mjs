// End-to-end: the release build in dist/ (scripts/test's `build` stage), served on 127.0.0.1, loaded in Debian's
// Chromium through playwright-core. Any console error, uncaught exception, failed request or HTTP error fails a
// test unless that test expects it. Screenshots go to target/e2e/; SYNOD_UPDATE_SCREENSHOT=1 also refreshes
// docs/screenshot.png, the picture at the top of the README.
//
// Run: node --test tests/e2e/   (after `trunk build --release`)

import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, readdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startStaticServer } from './static-server.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = `${ROOT}dist`;
const SHOTS = `${ROOT}target/e2e`;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// As root, without a GPU, on a machine whose network reaches only package registries.
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
// Generous: the first load compiles the Wasm module, and CI shares 2 cores with other work.
const RENDER_TIMEOUT_MS = 20_000;

let server;
let browser;

before(async () => {
  await readFile(`${DIST}/index.html`).catch(() => {
    throw new Error('dist/index.html is missing: build first with `trunk build --release` (or scripts/test build)');
  });
  server = await startStaticServer(DIST);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  await mkdir(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Opens `path` in a fresh context and records every sign of trouble in `problems`. */
async function open(path, { colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ colorScheme, viewport: { width: 1100, height: 820 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught exception: ${error.message}`));
  page.on('requestfailed', (request) =>
    problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`),
  );
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  await page.goto(server.url + path);
  return { page, context, problems };
}

/** Waits for the app's heading, i.e. the Wasm module loaded and Yew rendered. */
async function waitForApp(page) {
  await page.getByRole('heading', { level: 1, name: 'Synod' }).waitFor({ timeout: RENDER_TIMEOUT_MS });
  // Let anything that would fail right after mounting (effects, late requests) happen before we judge.
  await page.waitForLoadState('networkidle');
}

test('the release build renders the playground without errors', async () => {
  const { page, context, problems } = await open('/');
  try {
    await waitForApp(page);
    const text = await page.locator('body').innerText();
    assert.match(text, /Multi-Paxos/, 'the explanation of the playground is shown');
    assert.equal(await page.locator('.loading').count(), 0, 'the loading placeholder is replaced');
    assert.equal(await page.getByRole('alert').count(), 0, 'no error banner');
    assert.equal(await page.title(), 'Synod — Multi-Paxos playground');
    // The README's picture: wait for an elected leader and a few chosen slots, so it shows the cluster at work.
    await page.locator('article.node-card.role-leader').waitFor({ timeout: RENDER_TIMEOUT_MS });
    await page.waitForFunction(() => /slot [3-9]\d* chosen|slot \d{2,} chosen/.test(document.body.innerText), null, {
      timeout: RENDER_TIMEOUT_MS,
    });
    await page.screenshot({ path: `${SHOTS}/home-light.png`, fullPage: true });
    if (process.env.SYNOD_UPDATE_SCREENSHOT === '1') {
      await mkdir(`${ROOT}docs`, { recursive: true });
      await copyFile(`${SHOTS}/home-light.png`, `${ROOT}docs/screenshot.png`);
    }
    assert.deepEqual(problems, [], 'the page logged errors');
  } finally {
    await context.close();
  }
});

test('dark mode follows the system setting', async () => {
  const { page, context, problems } = await open('/', { colorScheme: 'dark' });
  try {
    await waitForApp(page);
    const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    const [r, g, b] = background.match(/\d+/g).map(Number);
    assert.ok(r + g + b < 150, `a dark background in dark mode, got ${background}`);
    await page.screenshot({ path: `${SHOTS}/home-dark.png`, fullPage: true });
    assert.deepEqual(problems, [], 'the page logged errors');
  } finally {
    await context.close();
  }
});

test('a Rust panic in the release build shows an error banner and reaches the console', async () => {
  const { page, context, problems } = await open('/?panic-test');
  try {
    const banner = page.getByRole('alert');
    await banner.waitFor({ timeout: RENDER_TIMEOUT_MS });
    assert.match(await banner.innerText(), /Synod crashed[\s\S]*deliberate panic requested with \?panic-test/);
    await page.screenshot({ path: `${SHOTS}/panic.png` });
    assert.ok(
      problems.some((p) => p.startsWith('console.error: Synod panicked') && p.includes('deliberate panic')),
      `the panic reached console.error: ${JSON.stringify(problems)}`,
    );
    // With panic = "abort" the instance traps after the hook: an uncaught `unreachable` is expected. Nothing else.
    const unexpected = problems.filter(
      (p) => !p.startsWith('console.error: Synod panicked') && !/uncaught exception: .*unreachable/.test(p),
    );
    assert.deepEqual(unexpected, []);
  } finally {
    await context.close();
  }
});

test('the built page has no inline script and a strict Content-Security-Policy', async () => {
  // Parsed by the browser's own HTML parser: the release build is minified (unquoted attributes, any order).
  const html = await readFile(`${DIST}/index.html`, 'utf8');
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const { csp, scripts, styled } = await page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, 'text/html');
      return {
        csp: doc.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content'),
        scripts: [...doc.querySelectorAll('script')].map((script) => ({
          tag: script.outerHTML.slice(0, 120),
          type: script.getAttribute('type'),
          src: script.getAttribute('src'),
          body: script.textContent,
        })),
        styled: doc.querySelectorAll('[style]').length,
      };
    }, html);
    assert.ok(csp, 'a CSP meta tag');
    const scriptSrc = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src'));
    assert.ok(scriptSrc, `script-src in ${csp}`);
    assert.doesNotMatch(scriptSrc, /'unsafe-inline'|'unsafe-eval'|\*/, scriptSrc);
    assert.match(scriptSrc, /'wasm-unsafe-eval'/);
    // Browsers ignore frame-ancestors in a meta tag and log it as an error; framing is the host's header to set.
    assert.doesNotMatch(csp, /frame-ancestors/);
    assert.ok(scripts.length >= 2, 'the boot data block and the boot module');
    for (const { tag, type, src, body } of scripts) {
      const isData = type === 'application/json';
      assert.ok(isData || (src && body.trim() === ''), `inline script: ${tag}`);
    }
    assert.equal(styled, 0, 'no inline style attribute (style-src has no unsafe-inline)');
  } finally {
    await context.close();
  }
});

test('the server sends .wasm as application/wasm', async () => {
  const wasm = (await readdir(DIST)).find((name) => name.endsWith('.wasm'));
  assert.ok(wasm, 'dist/ holds a .wasm file');
  const response = await fetch(`${server.url}/${wasm}`, { method: 'HEAD' });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'application/wasm');
});

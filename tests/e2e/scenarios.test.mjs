// End-to-end: scenarios in embed mode and the documentation pages that embed them. The docs pages load with every
// example rendered and playing; an unknown or malformed scenario name shows a clear error in the frame; a
// scenario without `embed=1` opens the full playground. Any console error fails a test (see harness.mjs).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, RENDER_TIMEOUT_MS, SHOTS, until } from './harness.mjs';

let server;
let browser;

before(async () => {
  ({ server, browser } = await launch());
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Opens `path` and records console errors, uncaught exceptions and failed requests from every frame. */
async function open(path, { width = 1100, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
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
  await page.goto(`${server.url}${path}`);
  return { page, context, problems };
}

/** The tick an embed shows ("tick 12 of 60"). */
async function embedTick(frame) {
  const text = await frame.getByText(/^tick \d+ of \d+$/).innerText();
  return Number(text.split(' ')[1]);
}

async function checkDocsPage(path, expected) {
  const { page, context, problems } = await open(path);
  const frames = page.locator('iframe');
  assert.equal(await frames.count(), expected, `${path} embeds ${expected} examples`);
  for (let index = 0; index < expected; index += 1) {
    const title = await frames.nth(index).getAttribute('title');
    const frame = page.frameLocator('iframe').nth(index);
    // Rendered: the title heading, the ring, the controls, a caption.
    await frame.getByRole('heading', { level: 1 }).waitFor({ timeout: RENDER_TIMEOUT_MS });
    await frame.getByRole('group', { name: /^Cluster of \d nodes at tick \d+/ }).waitFor();
    await frame.getByRole('button', { name: 'Step' }).waitFor();
    await frame.getByRole('link', { name: 'Open in the full playground' }).waitFor();
    // Playing: Pause is on offer and time moves on its own.
    assert.equal(await frame.getByRole('button', { name: 'Pause' }).isEnabled(), true, `${title} autoplays`);
    const start = await embedTick(frame);
    await until(async () => (await embedTick(frame)) > start, `${title} to advance past tick ${start}`);
  }
  await page.screenshot({ path: `${SHOTS}/docs-${path.replace(/\W+/g, '-')}.png`, fullPage: false });
  assert.deepEqual(problems, [], 'no console errors, exceptions or failed requests');
  await context.close();
}

test('the introduction loads with every example rendered and playing', async () => {
  await checkDocsPage('/docs/index.html', 9);
});

test('the planted-bugs page loads with every example rendered and playing', async () => {
  await checkDocsPage('/docs/bugs.html', 8);
});

test('the authors page loads and links back', async () => {
  const { page, context, problems } = await open('/docs/authors.html');
  await page.getByRole('heading', { level: 1, name: 'Writing and embedding scenarios' }).waitFor();
  assert.match(await page.locator('pre').first().innerText(), /<iframe src="\.\.\/index\.html\?scenario=normal-commit&embed=1"/);
  assert.deepEqual(problems, []);
  await context.close();
});

test('an embed fits 640×400, plays, pauses, steps and links to the same run in the playground', async () => {
  const { page, context, problems } = await open('/index.html?scenario=normal-commit&embed=1', {
    width: 640,
    height: 400,
  });
  await page.getByRole('heading', { level: 1, name: 'Normal commit' }).waitFor({ timeout: RENDER_TIMEOUT_MS });
  const fits = await page.evaluate(
    () => document.documentElement.scrollHeight <= 400 && document.documentElement.scrollWidth <= 640,
  );
  assert.equal(fits, true, 'no scrolling inside a 640×400 frame');
  await page.getByRole('button', { name: 'Pause' }).click();
  const paused = await embedTick(page);
  await page.getByRole('button', { name: 'Step' }).click();
  assert.equal(await embedTick(page), paused + 1, 'Step advances one tick');
  await page.getByRole('button', { name: 'Play' }).click();
  await until(async () => (await embedTick(page)) >= 15, 'the election');
  await until(
    async () => /becomes leader|client|chosen|applies/.test(await page.getByLabel('Caption').innerText()),
    'a caption about the run',
  );
  const href = await page.getByRole('link', { name: 'Open in the full playground' }).getAttribute('href');
  assert.match(href, /^\/index\.html\?run=1\.5\.1\.-\.0~30:o2:put:x:1:-$/);
  const full = await context.newPage();
  await full.goto(`${server.url}${href}`);
  await full.getByRole('heading', { level: 1, name: 'Synod' }).waitFor({ timeout: RENDER_TIMEOUT_MS });
  await full.getByRole('status', { name: 'Checker' }).waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

test('a scenario without embed opens the full playground loaded with it', async () => {
  const { page, context, problems } = await open('/index.html?scenario=minority-partition');
  await page.getByRole('heading', { level: 1, name: 'Synod' }).waitFor({ timeout: RENDER_TIMEOUT_MS });
  await page.getByRole('button', { name: 'Share' }).click();
  const link = page.getByLabel('Share link');
  await link.waitFor();
  assert.match(await link.inputValue(), /\?run=1\.5\.1\.-\.0~20:P1,2\|3,4,5~30:o3:put:x:1:-/);
  assert.deepEqual(problems, []);
  await context.close();
});

for (const [what, query, message] of [
  ['an unknown', 'no-such-thing', /There is no scenario called "no-such-thing"\. Known scenarios: normal-commit, leader-crash,/],
  ['a malformed', '%3Cb%3Ebold%3C%2Fb%3E', /The scenario name in the address, .*, is malformed: a name has only letters, digits and dashes\. Known scenarios: normal-commit,/],
]) {
  test(`${what} scenario in the address shows a clear error in the frame`, async () => {
    const { page, context, problems } = await open(`/index.html?scenario=${query}&embed=1`, { width: 640, height: 400 });
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: RENDER_TIMEOUT_MS });
    assert.match(await alert.innerText(), message);
    assert.equal(await page.locator('b').count(), 0, 'the name is shown as text, never as HTML');
    assert.deepEqual(problems, []);
    await context.close();
  });
}

// End-to-end: scenarios in embed mode and the documentation pages that embed them. The docs pages load with every
// example rendered and playing; an unknown or malformed scenario name shows a clear error in the frame; a
// scenario without `embed=1` opens the full playground. Embeds keep their disks in IndexedDB databases of their own
// (`synod-embed-NAME`), never the visitor's `synod-playground`; a restart in the script reads its node back from
// there; a second frame of the same scenario takes a spare database. Any console error fails a test (see
// harness.mjs).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFile } from 'node:fs/promises';
import { kvText, leader, openPage, RENDER_TIMEOUT_MS, ROOT, setSpeed, SHOTS, submit, until, launchedForThisFile } from './harness.mjs';

const env = launchedForThisFile();

/** Opens `path` (a docs page or an embed) in a fresh context; see harness.mjs. */
function open(path, { width = 1100, height = 900, context } = {}) {
  return openPage(env.browser, `${env.server.url}${path}`, { width, height, waitForApp: false, context });
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
  await checkDocsPage('/docs/index.html', 10);
});

test('the planted-bugs page loads with every example rendered and playing', async () => {
  await checkDocsPage('/docs/bugs.html', 9);
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
  // One tick, once the commit of the tick before (if one was under way) landed; never more.
  await until(async () => (await embedTick(page)) === paused + 1, 'Step to advance one tick');
  await page.getByRole('button', { name: 'Play' }).click();
  await until(async () => (await embedTick(page)) >= 15, 'the election');
  await until(
    async () => /becomes leader|client|chosen|applies/.test(await page.getByLabel('Caption').innerText()),
    'a caption about the run',
  );
  // The link opens the same run where the example is: paused here, so at exactly this tick.
  await page.getByRole('button', { name: 'Pause' }).click();
  const at = await embedTick(page);
  const href = await page.getByRole('link', { name: 'Open in the full playground' }).getAttribute('href');
  assert.equal(href, `/index.html?run=2.5.1.-.0~30:o2:put:x:1:-~@${at}.paused.8`);
  const full = await context.newPage();
  await full.goto(`${env.server.url}${href}`);
  await full.getByRole('heading', { level: 1, name: 'Synod' }).waitFor({ timeout: RENDER_TIMEOUT_MS });
  await full.getByRole('status', { name: 'Checker' }).waitFor();
  assert.equal(Number((await full.locator('.tick').innerText()).replace('tick ', '')), at);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a scenario without embed opens the full playground loaded with it', async () => {
  const { page, context, problems } = await open('/index.html?scenario=minority-partition');
  await page.getByRole('heading', { level: 1, name: 'Synod' }).waitFor({ timeout: RENDER_TIMEOUT_MS });
  // The scenario is fetched and run by the scenario engine first.
  const outcome = page.getByRole('status', { name: 'Scenario outcome' });
  await until(async () => /^Playing "Minority partition"/.test(await outcome.innerText()), 'the scenario');
  await page.getByRole('button', { name: 'Share' }).click();
  const link = page.getByLabel('Share link');
  await link.waitFor();
  assert.match(await link.inputValue(), /\?run=2\.5\.1\.-\.0~20:P1,2\|3,4,5~30:o3:put:x:1:-~.*~@\d+\.playing\.8$/);
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

/** Every record of every store of the IndexedDB database `name` as JSON text, read in `page` (same origin); fails
 * if there is no such database. */
async function dumpDatabase(page, name) {
  return page.evaluate(async (name) => {
    const done = (request) =>
      new Promise((resolve, reject) => {
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    const opening = indexedDB.open(name);
    opening.onupgradeneeded = () => opening.transaction.abort(); // it must exist already
    const db = await done(opening).catch(() => {
      throw new Error(`no database ${name}`);
    });
    const dump = {};
    for (const store of db.objectStoreNames) {
      const records = db.transaction(store).objectStore(store);
      const [keys, values] = await Promise.all([done(records.getAllKeys()), done(records.getAll())]);
      dump[store] = keys.map((key, index) => [key, values[index]]);
    }
    db.close();
    return JSON.stringify(dump);
  }, name);
}

/** The captions of a shipped scenario, [tick, text], from its file. */
async function captions(name) {
  const text = await readFile(`${ROOT}www/scenarios/${name}.scenario`, 'utf8');
  return [...text.matchAll(/^say (\d+): (.*)$/gm)].map(([, tick, caption]) => [Number(tick), caption]);
}

test('embeds keep their disks in IndexedDB databases of their own and never touch the playground cluster', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  // 1. The visitor's own cluster, holding a write of theirs.
  const playground = await openPage(env.browser, `${env.server.url}/`, { context });
  const storage = playground.page.getByRole('status', { name: 'Storage' });
  await until(async () => /Saved in this browser/.test(await storage.innerText()), 'the playground cluster to open');
  await setSpeed(playground.page, 100);
  const boss = await until(() => leader(playground.page), 'a leader');
  await submit(playground.page, { target: boss, key: 'mine', value: 'kept' });
  await until(async () => /mine\s+kept/.test(await kvText(playground.page, boss)), 'the write to be applied');
  await playground.page.getByRole('button', { name: 'Pause', exact: true }).click();
  await playground.page.close(); // Nothing writes the playground cluster from here on.

  // 2. The introduction with its nine embeds, until the restart example has read node 3 back (tick 70).
  const docs = await open('/docs/index.html', { context });
  const before = await dumpDatabase(docs.page, 'synod-playground');
  assert.match(before, /mine/, 'the playground cluster holds the visitor\'s write');
  const frame = docs.page.frameLocator('iframe[src*="scenario=restart-recovery"]');
  const frameStorage = frame.getByRole('status', { name: 'Storage' });
  await until(async () => /IndexedDB "synod-embed-restart-recovery"/.test(await frameStorage.innerText()), 'the embed database');
  // Captions are tied to ticks: sampled together, the caption is always the last one at or before the tick.
  const script = await captions('restart-recovery');
  const handle = await docs.page.$('iframe[src*="scenario=restart-recovery"]');
  const embed = await handle.contentFrame();
  let samples = 0;
  await until(
    async () => {
      const [tick, caption] = await embed.evaluate(() => [
        Number(document.querySelector('.embed-tick').textContent.split(' ')[1]),
        document.querySelector('.embed-caption').textContent,
      ]);
      const expected = script.filter(([at]) => at <= tick).at(-1)?.[1] ?? '';
      assert.equal(caption, expected, `the caption at tick ${tick}`);
      samples += 1;
      return /Node 3 read back from IndexedDB for its restart at tick 70: promise \d+\.\d+, [1-9]\d* log entr(y|ies)/.test(
        await frameStorage.innerText(),
      );
    },
    'node 3 to be read back from IndexedDB',
    60_000,
  );
  assert.ok(samples > 10, 'captions were sampled along the run');
  const names = await docs.page.evaluate(async () => (await indexedDB.databases()).map((db) => db.name).sort());
  for (const name of ['normal-commit', 'leader-crash', 'restart-recovery', 'snapshot-catch-up']) {
    assert.ok(names.includes(`synod-embed-${name}`), `${name} has its own database (${names})`);
  }
  const held = JSON.parse(await dumpDatabase(docs.page, 'synod-embed-restart-recovery'));
  const acceptors = held.acceptor.map(([node]) => node);
  for (const node of [1, 2, 3, 4, 5]) assert.ok(acceptors.includes(node), `node ${node} is in the embed database`);
  assert.ok(held.entries.some(([[node]]) => node === 3), 'node 3\'s log is in the embed database');
  assert.match(JSON.stringify(held.trace), /~70:r3/, 'the run document, with its restart, is stored with it');
  assert.equal(await dumpDatabase(docs.page, 'synod-playground'), before, 'the playground cluster is untouched');
  assert.deepEqual(docs.problems, []);
  await docs.page.close();

  // 3. The playground again: the same cluster, with the visitor's write.
  const again = await openPage(env.browser, `${env.server.url}/`, { context });
  const storageAgain = again.page.getByRole('status', { name: 'Storage' });
  await until(async () => /Saved in this browser/.test(await storageAgain.innerText()), 'the cluster to be restored');
  await until(async () => /mine\s+kept/.test(await kvText(again.page, boss)), 'the visitor\'s write, restored');
  assert.deepEqual([...playground.problems, ...again.problems], []);
  await context.close();
});

test('a second frame of the same example takes a spare database and plays too', async () => {
  const { page, context, problems } = await open('/docs/authors.html');
  await page.evaluate(() => {
    for (let copy = 0; copy < 2; copy += 1) {
      const frame = document.createElement('iframe');
      frame.src = '../index.html?scenario=normal-commit&embed=1';
      frame.title = `copy ${copy}`;
      frame.width = '640';
      frame.height = '400';
      document.body.append(frame);
    }
  });
  const said = [];
  for (const title of ['copy 0', 'copy 1']) {
    const frame = page.frameLocator(`iframe[title="${title}"]`);
    const storage = frame.getByRole('status', { name: 'Storage' });
    said.push(await until(async () => {
      const text = await storage.innerText();
      return /IndexedDB "synod-embed-normal-commit(-2)?"/.test(text) && text;
    }, `${title} to open its database`));
    const start = await embedTick(frame);
    await until(async () => (await embedTick(frame)) > start, `${title} to play`);
  }
  const databases = said.map((text) => text.match(/"(synod-embed-normal-commit(?:-2)?)"/)[1]).sort();
  assert.deepEqual(databases, ['synod-embed-normal-commit', 'synod-embed-normal-commit-2']);
  assert.deepEqual(problems, []);
  await context.close();
});

test('without IndexedDB an embed plays in memory and says so', async () => {
  const context = await env.browser.newContext({ viewport: { width: 640, height: 400 } });
  await context.addInitScript(() => Object.defineProperty(window, 'indexedDB', { value: undefined }));
  const { page, problems } = await open('/index.html?scenario=normal-commit&embed=1', { context });
  const storage = page.getByRole('status', { name: 'Storage' });
  await until(async () => /In memory only/.test(await storage.innerText()), 'the memory fallback');
  assert.match(await storage.innerText(), /storage unavailable/i);
  const start = await embedTick(page);
  await until(async () => (await embedTick(page)) > start, 'the example to play');
  assert.deepEqual(problems, []);
  await context.close();
});

// End-to-end: publishing and embedding. The release build is served under a sub-path (/synod/, as a project site
// is) on one loopback port; an author's site, with its own .scenario files and a page that frames Synod, is served
// from another port and another host name (localhost, so the frames are third-party: their storage is partitioned).
// The author's page frames an example by `scenario-url` and by inline text, and both come alive; a malformed
// scenario shows its line in the frame, a missing file its HTTP status. Any console error fails a test, except the
// browser's own "Failed to load resource" line for the file that is missing on purpose (harness.mjs, `missing`).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { launch, openPage, RENDER_TIMEOUT_MS, SHOTS, until } from './harness.mjs';
import { startStaticServer } from './static-server.mjs';

let synod; // dist/ under /synod/
let author; // the author's own site
let browser;

/** An author's scenario: three nodes, a write, captions and claims of their own. */
const EXAMPLE = `synod-scenario 1
title: An author's own example
nodes: 3
seed: 4
end: 50
checker: green

say 0: Three nodes, and a leader soon.
at 25: put colour blue via 1
say 25: A client writes colour = blue through node 1.
expect 40: colour = blue
`;

/** Malformed on line 7: node 4 in a cluster of 3. */
const MALFORMED = 'synod-scenario 1\ntitle: Broken\nnodes: 3\nseed: 1\nend: 20\nchecker: green\nat 2: kill 4\n';

/** `text` packed as `#scenario=` expects, by Node's own zlib (raw DEFLATE) and base64url: not Synod's code. */
function pack(text) {
  return deflateRawSync(Buffer.from(text, 'utf8'), { level: 9 }).toString('base64url');
}

before(async () => {
  ({ browser, server: synod } = await launch({ prefix: '/synod' }));
  const site = await mkdtemp(join(tmpdir(), 'synod-author-'));
  await writeFile(join(site, 'example.scenario'), EXAMPLE);
  author = await startStaticServer(site, { headers: { 'Access-Control-Allow-Origin': '*' } });
  const authorOrigin = `http://localhost:${author.port}`;
  const frame = (title, src) =>
    `<iframe title="${title}" src="${src}" width="640" height="400"></iframe>`;
  await writeFile(
    join(site, 'page.html'),
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>An author's docs</title></head><body>
<h1>An author's docs</h1>
${frame('By URL', `${synod.url}/index.html?scenario-url=${authorOrigin}/example.scenario&amp;embed=1`)}
${frame('Inline', `${synod.url}/index.html?embed=1#scenario=${pack(EXAMPLE)}`)}
${frame('Malformed', `${synod.url}/index.html?embed=1#scenario=${pack(MALFORMED)}`)}
${frame('Missing', `${synod.url}/index.html?scenario-url=${authorOrigin}/missing.scenario&amp;embed=1`)}
</body></html>`,
  );
});

after(async () => {
  await browser?.close();
  await synod?.close();
  await author?.close();
});

/** The tick an embed shows ("tick 12 of 60"). */
async function embedTick(frame) {
  const text = await frame.getByText(/^tick \d+ of \d+$/).innerText();
  return Number(text.split(' ')[1]);
}

test("an author's page on another site frames examples by scenario-url and by inline text, and both come alive", async () => {
  const missing = `http://localhost:${author.port}/missing.scenario`;
  const { page, context, problems } = await openPage(browser, `http://localhost:${author.port}/page.html`, {
    waitForApp: false,
    missing: [missing],
  });
  for (const title of ['By URL', 'Inline']) {
    const frame = page.frameLocator(`iframe[title="${title}"]`);
    await frame.getByRole('heading', { level: 1, name: "An author's own example" }).waitFor({ timeout: RENDER_TIMEOUT_MS });
    assert.equal(await frame.getByText(/^tick \d+ of 50$/).count(), 1, `${title}: the author's end tick`);
    const start = await embedTick(frame);
    await until(async () => (await embedTick(frame)) > start, `${title} to play`);
    await until(async () => /colour = blue/.test(await frame.getByLabel('Caption').innerText()), `${title}: the author's caption`);
    // Third-party frames get partitioned storage here; with none at all they would play in memory. Either way
    // the frame says where its disks are, and nothing is an error.
    const storage = frame.getByRole('status', { name: 'Storage' });
    await until(async () => /IndexedDB "|In memory only/.test(await storage.innerText()), `${title}: where its disks are`);
    assert.equal(await storage.locator('.embed-storage-problem').count(), 0, `${title}: ${await storage.innerText()}`);
    const open = await frame.getByRole('link', { name: 'Open in the full playground' }).getAttribute('href');
    // The run, and the moment the example is at (a version-2 link: tick, playing or paused, speed).
    assert.match(
      open,
      /^\/synod\/index\.html\?run=2\.3\.4\.-\.0~25:o1:put:colour:blue:-~@\d+\.(playing|paused)\.8$/,
      `${title}: ${open}`,
    );
  }
  const malformed = page.frameLocator('iframe[title="Malformed"]').getByRole('alert');
  await malformed.waitFor({ timeout: RENDER_TIMEOUT_MS });
  assert.match(
    await malformed.innerText(),
    /The scenario in the address has an error on line 7 \(at 2: kill\): "4" is not a node of this cluster \(1 to 3\)\./,
  );
  const gone = page.frameLocator('iframe[title="Missing"]').getByRole('alert');
  await gone.waitFor({ timeout: RENDER_TIMEOUT_MS });
  assert.match(await gone.innerText(), new RegExp(`The scenario file ${missing} could not be loaded: HTTP 404 Not Found\\.`));
  await page.screenshot({ path: `${SHOTS}/author-page.png`, fullPage: true });
  assert.deepEqual(problems, [], 'no console errors, exceptions or failed requests but the one missing file');
  await context.close();
});

test('under a sub-path the playground, its scenarios and the docs pages with their examples all load', async () => {
  const { page, context, problems } = await openPage(browser, `${synod.url}/?scenario=normal-commit`);
  await until(
    async () => /Playing "Normal commit"/.test(await page.getByRole('status', { name: 'Scenario outcome' }).innerText()),
    'the shipped scenario, fetched from /synod/scenarios/',
  );
  const docs = await openPage(browser, `${synod.url}/docs/index.html`, { waitForApp: false, context });
  const first = docs.page.frameLocator('iframe').first();
  await first.getByRole('heading', { level: 1, name: 'Normal commit' }).waitFor({ timeout: RENDER_TIMEOUT_MS });
  const start = await embedTick(first);
  await until(async () => (await embedTick(first)) > start, 'the first example to play');
  const href = await first.getByRole('link', { name: 'Open in the full playground' }).getAttribute('href');
  assert.match(href, /^\/synod\/index\.html\?run=/);
  for (const name of ['Introduction', 'Planted bugs', 'Writing scenarios', 'Playground']) {
    const link = docs.page.getByRole('navigation', { name: 'Documentation' }).getByRole('link', { name, exact: true });
    const target = new URL(await link.getAttribute('href'), docs.page.url());
    const response = await docs.page.request.get(target.href);
    assert.equal(response.status(), 200, `${name} → ${target.pathname}`);
    assert.ok(target.pathname.startsWith('/synod/'), `${name} stays under /synod/: ${target.pathname}`);
  }
  assert.deepEqual([...problems, ...docs.problems], []);
  await context.close();
});

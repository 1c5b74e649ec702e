// End-to-end: writing a scenario in the playground. "Export as scenario" turns the run so far into scenario text
// in a textarea labelled "Scenario", which is checked as the author types (an error names its line); "Play
// scenario" plays the edited text; "Copy embed code" puts a one-line <iframe> on the clipboard, and that frame
// plays the text it carries.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leader, openPage, RENDER_TIMEOUT_MS, setSpeed, SHOTS, submit, tick, until, launchedForThisFile } from './harness.mjs';

const env = launchedForThisFile();

test('export, edit, play and copy a scenario in the playground', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.server.url });
  const { page, problems } = await openPage(env.browser, `${env.server.url}/?run=1.5.7.-.0`, { context });
  await setSpeed(page, 100);
  const boss = await until(() => leader(page), 'a leader');
  await submit(page, { target: boss, key: 'colour', value: 'sky blue' });
  await until(async () => (await tick(page)) > 60, 'the write to settle');

  // Export: the run so far, its action at its tick, and claims that hold now.
  await page.getByRole('button', { name: 'Export as scenario' }).click();
  const editor = page.getByLabel('Scenario', { exact: true });
  await until(async () => /^synod-scenario 1\n/.test(await editor.inputValue()), 'the exported text');
  const exported = await editor.inputValue();
  const now = Number(exported.match(/^end: (\d+)$/m)[1]);
  assert.equal(now, await tick(page), 'it ends where the run is (the run paused for the export)');
  assert.match(exported, /^seed: 7$/m);
  assert.match(exported, new RegExp(`^at \\d+: put colour "sky blue" via ${boss}$`, 'm'));
  assert.match(exported, new RegExp(`^expect ${now}: leader ${boss}$`, 'm'));
  assert.match(exported, new RegExp(`^expect ${now}: colour = "sky blue"$`, 'm'));
  const check = page.getByRole('status', { name: 'Scenario check' });
  await until(async () => /^✓ Reads: "A playground run", 5 nodes, 1 actions/.test(await check.innerText()), 'the check');

  // Edit: a mistake is named by its line as it is typed, and Play waits for a valid text.
  await editor.fill(exported.replace('nodes: 5', 'nodes: 9'));
  const nodesLine = exported.split('\n').indexOf('nodes: 5') + 1;
  await until(async () => (await check.innerText()).startsWith(`✗ Line ${nodesLine} (nodes): a scenario's cluster has 3 to 7 nodes, not 9`), 'the error');
  assert.equal(await page.getByRole('button', { name: 'Play scenario' }).isDisabled(), true);
  const edited = exported
    .replace('title: A playground run', 'title: Sky blue')
    .concat(`say 0: Five nodes and one write.\nexpect ${now}: colour = "sky blue" on 1 2 3 4 5\n`);
  await editor.fill(edited);
  await until(async () => (await check.innerText()).startsWith('✓ Reads: "Sky blue"'), 'the edited text to read');

  // Play: the playground runs the edited scenario from tick 0, and says whether its claims hold.
  await page.getByRole('button', { name: 'Play scenario' }).click();
  const outcome = page.getByRole('status', { name: 'Scenario outcome' });
  await until(async () => /^Playing "Sky blue" \(to tick \d+\): every claim holds\.$/.test(await outcome.innerText()), 'the play');
  await until(async () => /colour\s+sky blue/.test(await page.getByRole('region', { name: `Node ${boss} KV store` }).innerText()), 'the scripted write, again');

  // Copy: one line of HTML on the clipboard, the text packed into the frame's address; a hosted form too.
  await page.getByRole('button', { name: 'Copy embed code' }).click();
  await until(async () => /Copied to the clipboard/.test(await page.getByRole('status', { name: 'Copy' }).innerText()), 'the copy');
  const code = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(code, await page.getByLabel('Embed code', { exact: true }).inputValue());
  const match = code.match(/^<iframe src="([^"]+)" title="Live example: Sky blue" width="640" height="400"><\/iframe>$/);
  assert.ok(match, code);
  assert.ok(match[1].startsWith(`${env.server.url}/?embed=1#scenario=`), match[1]);
  assert.match(await page.getByLabel('Embed code for a hosted file').inputValue(), /\?scenario-url=https:\/\/example\.org\/my-example\.scenario&amp;embed=1"/);
  await page.screenshot({ path: `${SHOTS}/authoring.png`, fullPage: true });

  // The copied frame plays the edited scenario.
  const embed = await openPage(env.browser, match[1], { context, waitForApp: false, width: 640, height: 400 });
  await embed.page.getByRole('heading', { level: 1, name: 'Sky blue' }).waitFor({ timeout: RENDER_TIMEOUT_MS });
  await until(async () => /Five nodes and one write/.test(await embed.page.getByLabel('Caption').innerText()), 'its caption');
  assert.deepEqual([...problems, ...embed.problems], []);
  await context.close();
});

test('a scenario in the address opens in the editor, and an error in it names its line', async () => {
  const { page, context, problems } = await openPage(env.browser, `${env.server.url}/?scenario=noop-hole`);
  const outcome = page.getByRole('status', { name: 'Scenario outcome' });
  await until(async () => /^Playing "/.test(await outcome.innerText()), 'the scenario to play');
  assert.match(await page.getByLabel('Scenario', { exact: true }).inputValue(), /^synod-scenario 1\n/);
  const editor = page.getByLabel('Scenario', { exact: true });
  await editor.fill('synod-scenario 1\ntitle: t\nnodes: 3\nseed: 1\nend: 5\nchecker: green\nat 2: drop ping 1->2\n');
  await until(async () => /^✗ Line 7 \(at 2: drop\): unknown message kind "ping"/.test(await page.getByRole('status', { name: 'Scenario check' }).innerText()), 'the error');
  assert.deepEqual(problems, []);
  await context.close();
});

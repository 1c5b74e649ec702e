// End-to-end tests of "Explore from here" (src/ui/explorer/mod.rs): the model checker runs in a Web Worker from
// the state on screen, through the accessible names a screen reader uses. Runs are shared-run links opened
// paused at tick 30 (`2.<nodes>.<seed>.<bug>.<clients>~@30.paused.8`), three nodes, no background clients.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { SHOTS, openPage, until, launchedForThisFile } from './harness.mjs';

const env = launchedForThisFile();
/** The promise for a planted bug from the start of a run: found within 60 s in the worker. */
const SEARCH_TIMEOUT_MS = 60_000;

function runUrl({ bug = '-' } = {}) {
  return `${env.server.url}/?run=2.3.7.${bug}.0~@30.paused.8`;
}

async function withPage(url, body) {
  const { page, context, problems } = await openPage(env.browser, url);
  try {
    await body(page);
    assert.deepEqual(problems, [], 'the page logged errors');
  } finally {
    await context.close();
  }
}

const explorer = (page) => page.getByRole('status', { name: 'Explorer' });
const checker = (page) => page.getByRole('status', { name: 'Checker' });

async function setBound(page, label, value) {
  const input = page.getByRole('spinbutton', { name: label });
  await input.fill(String(value));
  await input.dispatchEvent('change');
}

test('explore from a state with a planted bug finds it, and its counterexample turns the checker red', async () => {
  await withPage(runUrl({ bug: 'minority-quorum' }), async (page) => {
    assert.match(await checker(page).innerText(), /Checker: OK/, 'the run alone breaks nothing by tick 30');
    await page.getByRole('button', { name: 'Explore from here' }).click();
    const found = await until(async () => {
      const text = await explorer(page).innerText();
      return /Violation found after [\d,]+ states \([^)]*\), (\d+) events from here/.exec(text);
    }, 'the explorer to find the planted bug', SEARCH_TIMEOUT_MS);
    const events = Number(found[1]);
    assert.ok(events > 0, 'a path of at least one event');
    await page.getByRole('button', { name: 'Load counterexample' }).click();
    // Loaded paused where the search started: the violation is ahead, one action a step (an event, or a write
    // acknowledged with it).
    assert.match(await checker(page).innerText(), /Checker: OK/);
    assert.equal(await page.locator('.tick').innerText(), 'tick 30');
    // The path is a branch of the history: it shares the run up to tick 29 and steps from tick 30, where the
    // search started.
    const tree = page.getByRole('navigation', { name: 'History' });
    assert.match(await tree.innerText(), /Branch 2, leaving branch 1 at tick 29/);
    let steps = 0;
    while (/Checker: OK/.test(await checker(page).innerText())) {
      assert.ok(steps < 40, 'the checker turns red within the path\'s 40 events at most');
      // One tick: Step, or Forward where the playground steps event by event (a loaded path steps).
      await page.getByRole('button', { name: /^(Step|Forward)$/ }).click();
      steps += 1;
      await until(async () => (await page.locator('.tick').innerText()) === `tick ${30 + steps}`, `tick ${30 + steps}`);
    }
    assert.match(await checker(page).innerText(), /Checker: violation/);
    assert.ok(steps >= events, `${steps} steps for a path of ${events} events`);
    await page.screenshot({ path: `${SHOTS}/explore-counterexample.png`, fullPage: true });
    // Share gives a link that opens the counterexample where it broke.
    await page.getByRole('button', { name: 'Share', exact: true }).click();
    const link = await page.getByRole('textbox', { name: 'Share link' }).inputValue();
    const shared = await openPage(env.browser, link);
    try {
      await until(async () => /Checker: violation/.test(await checker(shared.page).innerText()), 'the shared link');
      assert.deepEqual(shared.problems, [], 'the shared page logged errors');
    } finally {
      await shared.context.close();
    }
  });
});

test('explore on the correct protocol with small bounds says the space was exhausted', async () => {
  await withPage(runUrl(), async (page) => {
    await setBound(page, 'Crashes', 0);
    await setBound(page, 'Node ticks', 0);
    await setBound(page, /^Messages in flight, beyond the \d+ now$/, 1);
    await page.getByRole('button', { name: 'Explore from here' }).click();
    const status = explorer(page);
    const done = await until(async () => /Exhausted: all ([\d,]+) states/.exec(await status.innerText()), 'exhausted');
    assert.ok(Number(done[1].replaceAll(',', '')) > 1, 'more than the start state');
    assert.match(await status.innerText(), /no invariant broke/);
    assert.match(await checker(page).innerText(), /Checker: OK/, 'exploring leaves the run on screen as it was');
  });
});

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

for (const colorScheme of ['light', 'dark']) {
  test(`the explorer's panel with a violation and its path has no serious accessibility violation (${colorScheme})`, async () => {
    // The audit's own script is let through the page's CSP, as in accessibility.test.mjs.
    const context = await env.browser.newContext({ colorScheme, viewport: { width: 1280, height: 900 }, bypassCSP: true });
    const { page, problems } = await openPage(env.browser, runUrl({ bug: 'minority-quorum' }), { context });
    try {
      await page.getByRole('button', { name: 'Explore from here' }).click();
      await page.getByRole('button', { name: 'Load counterexample' }).waitFor({ timeout: SEARCH_TIMEOUT_MS });
      await page.addScriptTag({ path: AXE });
      const violations = await page.evaluate(async () => (await window.axe.run('.explorer-panel')).violations);
      const serious = violations
        .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
        .flatMap((violation) => violation.nodes.map((node) => `${violation.id}: ${node.target.join(' ')}`));
      assert.deepEqual(serious, []);
      assert.deepEqual(problems, [], 'the page logged errors');
    } finally {
      await context.close();
    }
  });
}

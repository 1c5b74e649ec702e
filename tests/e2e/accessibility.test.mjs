// End-to-end: axe-core (the engine of Lighthouse's and browsers' accessibility audits) finds no serious or
// critical violation on the playground (light and dark), an embedded scenario, and the docs pages (issue 17).

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { RENDER_TIMEOUT_MS, openPage, tick, until, launchedForThisFile } from './harness.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

const env = launchedForThisFile();

/** The serious and critical violations axe finds on the page as it is now, one line each. */
async function seriousViolations(page) {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => (await window.axe.run(document)).violations);
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .flatMap((violation) =>
      violation.nodes.map((node) => `${violation.impact} ${violation.id}: ${node.target.join(' ')}: ${node.failureSummary}`),
    );
}

async function audit(url, { colorScheme = 'light', waitForApp = true } = {}, ready) {
  // The pages' CSP forbids inline scripts, as it should; the audit's own script is let through.
  const context = await env.browser.newContext({ colorScheme, viewport: { width: 1280, height: 900 }, bypassCSP: true });
  const { page, problems } = await openPage(env.browser, url, { context, waitForApp });
  try {
    await ready(page);
    assert.deepEqual(await seriousViolations(page), [], url);
    assert.deepEqual(problems, [], 'the page logged errors');
  } finally {
    await context.close();
  }
}

/** The playground paused while a log shows an accepted, not yet chosen, slot (the state whose colour was too faint). */
async function pausedOnAnAcceptedSlot(page) {
  const accepted = page.locator('.log-rows tr.accepted');
  const pause = page.getByRole('button', { name: 'Pause', exact: true });
  const play = page.getByRole('button', { name: 'Play', exact: true });
  await until(async () => {
    if (await play.isVisible()) await play.click();
    await until(async () => (await accepted.count()) > 0, 'an accepted slot');
    await pause.click();
    return (await accepted.count()) > 0;
  }, 'paused on an accepted slot');
}

for (const colorScheme of ['light', 'dark']) {
  test(`the playground in ${colorScheme} colours has no serious accessibility violation`, async () => {
    await audit(env.server.url + '/', { colorScheme }, pausedOnAnAcceptedSlot);
  });
}

test('stepping event by event, with a branch in the history and a node showing its changes, has no serious violation', async () => {
  await audit(env.server.url + '/', { colorScheme: 'dark' }, async (page) => {
    await page.getByRole('button', { name: 'Step by event' }).click();
    const next = page.getByRole('list', { name: 'Next events' });
    const fire = next.getByRole('button', { name: /^Fire timer of node / });
    const before = await tick(page);
    await fire.first().click();
    await until(async () => (await tick(page)) === before + 1, 'the timer to fire');
    await page.getByRole('button', { name: 'Back', exact: true }).click();
    await fire.last().click();
    await page.getByRole('navigation', { name: 'History' }).getByText('Branch 2').waitFor();
    await page.getByRole('region', { name: /^Node \d changes$/ }).first().waitFor();
  });
});

test('an embedded scenario has no serious accessibility violation', async () => {
  await audit(env.server.url + '/index.html?scenario=leader-crash&embed=1', { waitForApp: false }, async (page) => {
    await page.getByRole('button', { name: /Play|Pause/ }).first().waitFor({ timeout: RENDER_TIMEOUT_MS });
  });
});

for (const doc of ['index', 'authors', 'bugs']) {
  test(`the docs page ${doc}.html has no serious accessibility violation`, async () => {
    await audit(`${env.server.url}/docs/${doc}.html`, { waitForApp: false }, async (page) => {
      await page.getByRole('heading', { level: 1 }).waitFor({ timeout: RENDER_TIMEOUT_MS });
    });
  });
}

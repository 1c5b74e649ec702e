// End-to-end tests of the visitor's client retrying by itself (issue 18): a new visitor's first steps need no
// manual retry, every write is applied exactly once, the switch turns retries off for teaching, and the panel
// with its attempts fits a phone. Fresh pages (no `?run=`) run at the default speed, as a visitor's would.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SHOTS, RENDER_TIMEOUT_MS, kvText, leader, openPage, setSpeed, submit, until, launchedForThisFile } from './harness.mjs';

const env = launchedForThisFile();

/** 20 s of real time at the default speed (8 ticks/s), plus a second for the page to draw it. */
const TWENTY_SECONDS_MS = 21_000;

async function withContext(body, viewport = { width: 1280, height: 900 }) {
  const context = await env.browser.newContext({ viewport });
  const problems = [];
  try {
    await body(context, problems);
    assert.deepEqual(problems.flat(), [], 'the page logged errors');
  } finally {
    await context.close();
  }
}

async function open(context, problems, url = env.server.url + '/') {
  const opened = await openPage(env.browser, url, { context });
  problems.push(opened.problems);
  return opened.page;
}

const history = (page) => page.getByRole('list', { name: 'Client history' });

/** Waits until the history shows `command` answered with its slot; the item's text. */
async function answeredOk(page, command, timeout = TWENTY_SECONDS_MS) {
  const item = history(page).locator('li.op', { hasText: command });
  await until(async () => (await item.count()) === 1 && /slot \d+: ok/.test(await item.innerText()), `${command} answered`, timeout);
  return item.innerText();
}

test('a new visitor needs no manual retry: a put at load, a put after the leader dies, a reload; each applied once', async () => {
  await withContext(async (context, problems) => {
    const page = await open(context, problems);
    assert.ok(await page.getByLabel('Retry automatically').isChecked(), 'a fresh page retries by itself');
    await submit(page, { target: 1, key: 'x', value: '1' });
    await answeredOk(page, 'put x=1');

    const old = await until(() => leader(page), 'a leader');
    await page.getByRole('button', { name: `Kill node ${old}` }).click();
    const follower = old === 1 ? 2 : 1;
    await submit(page, { target: follower, key: 'y', value: '2' });
    const second = await answeredOk(page, 'put y=2');
    const attempts = history(page).locator('li.op', { hasText: 'put y=2' }).getByRole('list', { name: 'Attempts' });
    assert.ok((await attempts.locator('li').count()) >= 1, second);
    assert.doesNotMatch(await history(page).innerText(), /outcome unknown|rejected/);

    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Synod' }).waitFor({ timeout: RENDER_TIMEOUT_MS });
    const storage = page.getByRole('status', { name: 'Storage' });
    await until(async () => /Saved in this browser/.test(await storage.innerText()), 'the cluster to be restored');
    await setSpeed(page, 100);
    for (let node = 1; node <= 5; node++) {
      if (node === old) continue;
      await until(async () => /x\s+1/.test(await kvText(page, node)) && /y\s+2/.test(await kvText(page, node)), `x and y on node ${node}`);
    }
    const text = await history(page).innerText();
    assert.equal(text.match(/put x=1/g)?.length, 1, text);
    assert.equal(text.match(/put y=2/g)?.length, 1, text);
    assert.match(await page.getByRole('status', { name: 'Checker' }).innerText(), /OK/);
    await page.screenshot({ path: `${SHOTS}/retries.png`, fullPage: true });
  });
});

test('the switch turns retries off: a put before any leader is then only rejected, and on again it is applied', async () => {
  await withContext(async (context, problems) => {
    // A run whose only action turns retries on at tick 0: it opens paused there, before any election.
    const page = await open(context, problems, `${env.server.url}/?run=1.5.7.-.0~0:c1`);
    const retry = page.getByLabel('Retry automatically');
    assert.ok(await retry.isChecked());
    await retry.uncheck();
    await submit(page, { target: 1, key: 'early', value: 'no' });
    await until(async () => /rejected: no leader is known yet/.test(await history(page).innerText()), 'the rejection');
    const rejected = history(page).locator('li.op', { hasText: 'put early=no' });
    assert.equal(await rejected.getByRole('list', { name: 'Attempts' }).count(), 0, 'one attempt, none listed');

    await retry.check();
    await submit(page, { target: 1, key: 'early', value: 'yes' });
    const client = page.getByRole('region', { name: 'Client', exact: true });
    await until(async () => /retrying at tick \d+; gives up at tick \d+/.test(await client.innerText()), 'the backoff');
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await setSpeed(page, 100);
    const item = await answeredOk(page, 'put early=yes');
    assert.match(item, /node 1: no leader is known yet \(tick 0\)/);
  });
});

test('the client panel with its attempts fits a 375 px phone', async () => {
  await withContext(
    async (context, problems) => {
      const page = await open(context, problems, `${env.server.url}/?run=1.5.7.-.0~0:c1`);
      await submit(page, { target: 1, key: 'phone', value: 'a-rather-long-value-to-wrap' });
      await page.getByRole('button', { name: 'Play', exact: true }).click();
      await setSpeed(page, 100);
      await answeredOk(page, 'put phone=');
      const panel = page.getByRole('region', { name: 'Client', exact: true });
      // The form for each operation, the scan's and the read level's included.
      for (const op of ['put', 'cas', 'get', 'scan']) {
        await page.getByLabel(/^Operation/).selectOption(op);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${op}: no horizontal scrolling, got ${overflow} px too wide`);
        const box = await panel.boundingBox();
        assert.ok(box.x >= 0 && box.x + box.width <= 375, `${op}: the panel is within the screen: ${JSON.stringify(box)}`);
      }
      await panel.screenshot({ path: `${SHOTS}/retries-phone.png` });
    },
    { width: 375, height: 800 },
  );
});

test('a retry the session table answers says so, and the append is applied once', async () => {
  await withContext(async (context, problems) => {
    const page = await open(context, problems);
    const old = await until(() => leader(page), 'a leader');
    const follower = old === 1 ? 2 : 1;
    // Paused, the follower forwards the append to the leader and dies before it can answer: the append is
    // applied, the client times out, and its retry elsewhere is chosen again and answered from the session table.
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await submit(page, { target: follower, op: 'append', key: 'z', value: 'c' });
    await page.getByRole('button', { name: `Kill node ${follower}` }).click();
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await setSpeed(page, 100);
    const item = history(page).locator('li.op', { hasText: 'append z+=c' });
    const note = /Applied once, in slot \d+; the retry chosen in slot \d+ was answered from the session table, not applied again\./;
    await until(async () => note.test(await item.innerText()), 'the session-table note', 60_000);
    for (let node = 1; node <= 5; node++) {
      if (node === follower) continue;
      await until(async () => /z\s+c(?!c)/.test(await kvText(page, node)), `z = c once on node ${node}`);
    }
    assert.match(await page.getByRole('status', { name: 'Checker' }).innerText(), /OK/);
  });
});

test('a scan at a chosen read level returns the range in key order', async () => {
  await withContext(async (context, problems) => {
    const page = await open(context, problems);
    await until(() => leader(page), 'a leader');
    await submit(page, { target: 1, key: 'b', value: '2' });
    await answeredOk(page, 'put b=2');
    await submit(page, { target: 1, key: 'a', value: '1' });
    await answeredOk(page, 'put a=1');
    await until(async () => /a\s+1/.test(await kvText(page, 1)) && /b\s+2/.test(await kvText(page, 1)), 'a and b on node 1');
    await page.getByLabel(/^Operation/).selectOption('scan');
    await page.getByLabel('Read level').selectOption('local');
    await page.getByLabel('Start key').fill('a');
    await page.getByLabel('End key').fill('c');
    await page.getByLabel('Limit').fill('x');
    assert.match(await page.getByRole('region', { name: 'Client' }).innerText(), /the limit "x" is not a number/);
    assert.ok(await page.getByRole('button', { name: 'Submit' }).isDisabled(), 'a bad limit cannot be sent');
    await page.getByLabel('Limit').fill('');
    await page.getByRole('button', { name: 'Submit' }).click();
    const item = history(page).locator('li.op', { hasText: 'scan a..c @local' });
    await until(async () => (await item.count()) === 1 && /\[a="1", b="2"\]/.test(await item.innerText()), 'the scan answered', TWENTY_SECONDS_MS);
    await page.getByLabel('Read level').selectOption('lease');
    assert.match(await page.getByRole('region', { name: 'Client' }).innerText(), /Read leases are off in this run/);
  });
});

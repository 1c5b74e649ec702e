// End-to-end tests of membership changes in the playground (issue 20): "Add node" starts a node with the next
// unused id, which catches up and joins the configuration; "Remove node N" takes it out again, and it retires. A
// shared link carries the changes, and time travel undoes and redoes them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leader, openPage, setSpeed, seek, tick, until, launchedForThisFile } from './harness.mjs';

const env = launchedForThisFile();

const card = (page, id) => page.getByRole('article', { name: `Node ${id}` });

test('a node is added, joins the configuration, and is removed again', async () => {
  const { page, problems } = await openPage(env.browser, env.server.url + '/');
  await until(() => leader(page), 'a leader');
  const before = await page.locator('article.node-card').count();
  const added = before + 1;

  await page.getByRole('button', { name: 'Add node', exact: true }).click();
  await card(page, added).waitFor();
  // It is a member once the change is in effect: only then does its card offer to remove it.
  const remove = page.getByRole('button', { name: `Remove node ${added}`, exact: true });
  await until(async () => (await remove.count()) === 1, `node ${added} to join the configuration`);

  await remove.click();
  await until(
    async () => (await card(page, added).locator('.role-pill').innerText()) === 'retired',
    `node ${added} to retire`,
  );
  assert.equal(await remove.count(), 0, 'a retired node cannot be removed again');
  assert.deepEqual(problems, []);
});

/** Whether node `id`'s card offers "Remove node N", which it does only while the node is a member. */
async function isMember(page, id) {
  return (await page.getByRole('button', { name: `Remove node ${id}`, exact: true }).count()) === 1;
}

async function role(page, id) {
  return card(page, id).locator('.role-pill').innerText();
}

test('a shared link replays the nodes added and removed, and time travel undoes and redoes them', async () => {
  let shared;
  let at;
  let fingerprint;
  {
    const { page, context, problems } = await openPage(env.browser, `${env.server.url}/?run=1.5.7.-.2`);
    await setSpeed(page, 100);
    await until(() => leader(page), 'a leader');
    await page.getByRole('button', { name: 'Add node', exact: true }).click();
    await until(() => isMember(page, 6), 'node 6 to join the configuration');
    await page.getByRole('button', { name: 'Remove node 1', exact: true }).click();
    await until(async () => (await role(page, 1)) === 'retired', 'node 1 to retire');
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    at = await tick(page);
    fingerprint = await page.getByLabel('Run fingerprint').innerText();
    await page.getByRole('button', { name: 'Share' }).click();
    shared = await page.getByLabel('Share link').inputValue();
    assert.deepEqual(problems, []);
    await context.close();
  }
  assert.match(shared, /~\d+:j~(.*~)?\d+:l1(~|$)/, shared);

  const { page, context, problems } = await openPage(env.browser, shared);
  assert.equal(await tick(page), at, 'the link opens at the tick shared');
  assert.equal(await page.getByLabel('Run fingerprint').innerText(), fingerprint, 'the same trace');
  assert.equal(await role(page, 1), 'retired');
  assert.ok(await isMember(page, 6), 'node 6 is a member');
  // Back to the start: five nodes, node 1 a member again; forward: the same run as shared.
  await seek(page, 0);
  assert.equal(await page.locator('article.node-card').count(), 5, 'no node 6 at tick 0');
  assert.ok(await isMember(page, 1), 'node 1 is a member at tick 0');
  await seek(page, at);
  assert.equal(await page.getByLabel('Run fingerprint').innerText(), fingerprint, 'the same trace again');
  assert.ok(await isMember(page, 6), 'node 6 is a member again');
  assert.deepEqual(problems, []);
  await context.close();
});

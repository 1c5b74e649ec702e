// End-to-end test of membership changes in the playground (issue 20): "Add node" starts a node with the next
// unused id, which catches up and joins the configuration; "Remove node N" takes it out again, and it retires.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leader, openPage, until, launchedForThisFile } from './harness.mjs';

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

// End-to-end tests of stepping event by event (issue 17): the list of next events, Back and Forward (buttons and
// arrow keys), the history tree that going back and choosing differently grows, what an event changed in a node,
// and a share link that reproduces the branch it was made on.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SHOTS, leader, openPage, submit, tick, until, launchedForThisFile } from './harness.mjs';

const env = launchedForThisFile();

const nextEvents = (page) => page.getByRole('list', { name: 'Next events' });
const history = (page) => page.getByRole('navigation', { name: 'History' });
const fingerprint = (page) => page.getByLabel('Run fingerprint').innerText();

/** The names of the "Deliver …" buttons enabled now. */
async function deliveries(page) {
  return nextEvents(page).getByRole('button', { name: /^Deliver #/ }).allInnerTexts();
}

/** Chooses the event named `name` exactly, and waits until its tick has been taken. */
async function choose(page, name) {
  const before = await tick(page);
  await nextEvents(page).getByRole('button', { name, exact: true }).click();
  await until(async () => (await tick(page)) === before + 1, `"${name}" to happen`);
}

/** Steps into stepping with at least two messages in flight (firing the leader's timer for heartbeats). */
async function steppingWithTwoMessages(page) {
  const chief = await until(() => leader(page), 'a leader');
  await page.getByRole('button', { name: 'Step by event' }).click();
  await nextEvents(page).waitFor();
  for (let fired = 0; (await deliveries(page)).length < 2; fired++) {
    assert.ok(fired < 20, 'the leader sent no heartbeats after 20 ticks of its clock');
    await choose(page, `Fire timer of node ${chief}`);
  }
  return (await deliveries(page)).slice(0, 2);
}

test('two deliveries in one order, back, the other order: two branches, each reproducible by its share link', async () => {
  const { page, problems } = await openPage(env.browser, env.server.url + '/');
  const [first, second] = await steppingWithTwoMessages(page);
  const start = await tick(page);

  await choose(page, first);
  const changed = page.getByRole('region', { name: /^Node \d changes$/ });
  await until(async () => (await changed.count()) >= 1, 'the node the delivery reached to show what changed');
  assert.match(await changed.first().innerText(), /memory|disk/);
  await choose(page, second);
  const firstOrder = await fingerprint(page);
  assert.match(await history(page).innerText(), new RegExp(`tick ${start + 1}: ${escape(first)}[^]*tick ${start + 2}: ${escape(second)}`));

  // Back twice: once with the button, once with the ← key.
  await page.getByRole('button', { name: 'Back', exact: true }).click();
  await page.keyboard.press('ArrowLeft');
  await until(async () => (await tick(page)) === start, 'two events back');
  assert.equal(await page.getByRole('button', { name: 'Forward', exact: true }).isEnabled(), true, 'the path goes on ahead');

  await choose(page, second);
  await choose(page, first);
  const otherOrder = await fingerprint(page);
  assert.notEqual(otherOrder, firstOrder, 'the other order is another run');
  const tree = await history(page).innerText();
  assert.match(tree, new RegExp(`Branch 2, leaving branch 1 at tick ${start}`));
  assert.match(tree, new RegExp(`tick ${start + 1}: ${escape(second)}[^]*tick ${start + 2}: ${escape(first)}`));
  await page.screenshot({ path: `${SHOTS}/stepping-history.png`, fullPage: true });

  // A shared link of this branch opens on the same run, at the same point.
  await page.getByRole('button', { name: 'Share' }).click();
  const link = await page.getByLabel('Share link').inputValue();
  const opened = await openPage(env.browser, link);
  await until(async () => (await fingerprint(opened.page)) === otherOrder, 'the shared branch to replay');
  assert.equal(await tick(opened.page), start + 2);
  await opened.context.close();

  // Jumping to the end of the first branch comes back to the first order.
  await history(page).getByRole('button', { name: `tick ${start + 2}: ${second}`, exact: true }).click();
  await until(async () => (await fingerprint(page)) === firstOrder, 'the first branch again');
  assert.deepEqual([...problems, ...opened.problems], []);
});

test('the next events name their verb, and Forward replays the event that was chosen', async () => {
  const { page, problems } = await openPage(env.browser, env.server.url + '/');
  const [first] = await steppingWithTwoMessages(page);
  const names = await nextEvents(page).getByRole('button').allInnerTexts();
  for (const name of names) {
    assert.match(name, /^(Deliver #|Drop #|Duplicate #|Fire timer of node |Acknowledge write of node |Crash node |Restart node )/);
  }
  await choose(page, first);
  // A client request sent while stepping is one event of the path too: a tick of its own, named in the history.
  const before = await tick(page);
  await submit(page, { target: 1, key: 'k', value: 'v' });
  await until(async () => (await tick(page)) === before + 1, 'the request to be sent in a tick of its own');
  assert.match(await history(page).innerText(), new RegExp(`tick ${before + 1}: You sent put k=v to node 1`));
  await page.getByRole('button', { name: 'Back', exact: true }).click();
  await until(async () => (await tick(page)) === before, 'back to the delivery');
  const after = await fingerprint(page);
  await page.getByRole('button', { name: 'Back', exact: true }).click();
  await page.getByRole('button', { name: 'Forward', exact: true }).click();
  await until(async () => (await fingerprint(page)) === after, 'Forward to replay the delivery');
  await page.getByRole('button', { name: 'Let time run' }).click();
  await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
  assert.deepEqual(problems, []);
});

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

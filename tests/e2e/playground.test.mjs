// End-to-end tests of the playground, through the accessible names a screen reader uses. Runs are given as a
// shared-run URL (`?run=1.<nodes>.<seed>.<bug>.<clients>`), so each test starts from a known cluster.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { ROOT, SHOTS, animationFrames, kvText, leader, openPage, setSpeed, submit, seek, tick, until, launchedForThisFile } from './harness.mjs';

const env = launchedForThisFile();

/** Five nodes, seed 7, no planted bug, no background clients (unless asked). */
function runUrl({ nodes = 5, seed = 7, bug = '-', clients = 0 } = {}) {
  return `${env.server.url}/?run=1.${nodes}.${seed}.${bug}.${clients}`;
}

async function withPage(url, body, options) {
  const { page, context, problems } = await openPage(env.browser, url, options);
  try {
    await body(page);
    assert.deepEqual(problems, [], 'the page logged errors');
  } finally {
    await context.close();
  }
}

test('a put sent through a follower reaches every live node', async () => {
  await withPage(runUrl(), async (page) => {
    await setSpeed(page, 100);
    const boss = await until(() => leader(page), 'a leader');
    const follower = boss === 1 ? 2 : 1;
    await submit(page, { target: follower, key: 'colour', value: 'blue' });
    for (let node = 1; node <= 5; node++) {
      await until(async () => /colour\s+blue/.test(await kvText(page, node)), `colour=blue on node ${node}`);
    }
    const history = page.getByRole('list', { name: 'Client history' });
    await until(async () => /put colour/.test(await history.innerText()) && !/waiting/.test(await history.innerText()), 'the reply');
    await page.screenshot({ path: `${SHOTS}/put-through-follower.png`, fullPage: true });
  });
});

test('after the leader is killed a new one is elected and writes continue; a restart reloads from disk', async () => {
  await withPage(runUrl(), async (page) => {
    await setSpeed(page, 100);
    const old = await until(() => leader(page), 'a leader');
    await submit(page, { target: old, key: 'before', value: 'crash' });
    await until(async () => /before\s+crash/.test(await kvText(page, old)), 'the first write');
    await page.getByRole('button', { name: `Kill node ${old}` }).click();
    const memory = page.getByRole('region', { name: `Node ${old} memory` });
    assert.match(await memory.innerText(), /empty/, 'a killed node has nothing in memory');
    const disk = page.getByRole('region', { name: `Node ${old} disk` });
    assert.match(await disk.innerText(), /[1-9]\d* entries/, 'its disk keeps the log');
    await page.getByLabel(/^Target node/).selectOption(String(old));
    assert.match(await page.getByRole('region', { name: 'Client', exact: true }).innerText(), /gets no reply and times out/);
    const fresh = await until(async () => {
      const id = await leader(page);
      return id !== null && id !== old ? id : null;
    }, 'a new leader');
    await submit(page, { target: fresh, key: 'after', value: 'election' });
    for (let node = 1; node <= 5; node++) {
      if (node === old) continue;
      await until(async () => /after\s+election/.test(await kvText(page, node)), `after=election on node ${node}`);
    }
    // Paused, so no later narration pushes the reload line out while the node reads its state back (which
    // takes an IndexedDB round trip); then it runs on.
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await page.getByRole('button', { name: `Restart node ${old}` }).click();
    const narration = page.getByRole('region', { name: 'What just happened' });
    const reloaded = new RegExp(`node ${old} reloaded from (disk|IndexedDB): promise \\d+\\.\\d+, [1-9]\\d* log entries`);
    await until(async () => reloaded.test(await narration.innerText()), 'the reload narration');
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await until(async () => /after\s+election/.test(await kvText(page, old)), 'the restarted node to catch up');
  });
});

test('an operation sent to a killed node times out, is shown indeterminate, and the visitor can go on', async () => {
  await withPage(runUrl(), async (page) => {
    await setSpeed(page, 100);
    const boss = await until(() => leader(page), 'a leader');
    const victim = boss === 1 ? 2 : 1;
    await page.getByRole('button', { name: `Kill node ${victim}` }).click();
    await submit(page, { target: victim, key: 'lost', value: 'maybe' });
    const history = page.getByRole('list', { name: 'Client history' });
    await until(async () => /timed out at tick \d+: outcome unknown/.test(await history.innerText()), 'the timeout');
    assert.match(await history.innerText(), new RegExp(`put lost=maybe\\s+→ node ${victim}\\s`));
    const note = page.getByRole('region', { name: 'Client', exact: true }).getByRole('status');
    assert.match(await note.innerText(), /outcome is unknown/);
    const follower = [1, 2, 3, 4, 5].find((id) => id !== boss && id !== victim);
    await submit(page, { target: follower, key: 'next', value: 'one' });
    await until(
      async () => new RegExp(`put next=one\\s+→ node ${follower} → leader ${boss}\\s+slot \\d+: ok`).test(await history.innerText()),
      'the next operation forwarded to the leader and answered with its slot',
    );
  });
});

test('what a visitor types is shown as text, never as HTML', async () => {
  await withPage(runUrl(), async (page) => {
    await setSpeed(page, 100);
    const boss = await until(() => leader(page), 'a leader');
    const evil = '<img/src=x/onerror=alert(1)>';
    await submit(page, { target: boss, key: evil, value: '<b>bold</b>' });
    await until(async () => (await kvText(page, boss)).includes(evil), 'the key shown as text');
    assert.equal(await page.locator('main img, main b').count(), 0, 'no element made from typed text');
    const narration = await page.getByRole('region', { name: 'What just happened' }).innerText();
    assert.match(narration, /it proposes your command|forwards your request/, narration);
  });
});

test('a message picked in flight can be dropped', async () => {
  await withPage(runUrl(), async (page) => {
    await setSpeed(page, 25);
    await until(() => leader(page), 'a leader');
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    const picked = await until(async () => {
      const text = await page.locator('.picked').innerText();
      return text.match(/#(\d+)/)?.[1];
    }, 'a message in flight');
    await page.getByRole('button', { name: 'Drop message' }).click();
    const narration = page.getByRole('region', { name: 'What just happened' });
    await until(async () => (await narration.innerText()).includes(`You dropped message #${picked}.`), 'the narration');
    const list = await page.getByRole('list', { name: 'Pick a message' }).innerText();
    assert.doesNotMatch(list, new RegExp(`#${picked} `), 'the dropped message is gone');
  });
});

test('with a minority partitioned away the majority keeps going', async () => {
  await withPage(runUrl(), async (page) => {
    await setSpeed(page, 100);
    await until(() => leader(page), 'a leader');
    await page.getByLabel('Partition').selectOption('minority');
    await page.getByRole('button', { name: 'Make partition' }).click();
    await submit(page, { target: 5, key: 'split', value: 'brain' });
    for (const node of [3, 4, 5]) {
      await until(async () => /split\s+brain/.test(await kvText(page, node)), `split=brain on node ${node}`);
    }
    for (const node of [1, 2]) {
      assert.doesNotMatch(await kvText(page, node), /split/, `node ${node} is cut off`);
    }
    await page.screenshot({ path: `${SHOTS}/partition.png`, fullPage: true });
  });
});

/** Each node's role, as its card says it. */
async function roles(page) {
  return page.locator('article.node-card .role-pill').allInnerTexts();
}

test('a shared URL replays exactly the same run', async () => {
  let shared;
  let at;
  let fingerprint;
  let store;
  await withPage(runUrl({ clients: 2, seed: 11 }), async (page) => {
    await setSpeed(page, 100);
    await until(async () => (await tick(page)) > 40, 'tick 40');
    await page.getByRole('button', { name: 'Kill node 2' }).click();
    await submit(page, { target: 3, key: 'shared', value: 'run' });
    await until(async () => (await tick(page)) > 120, 'tick 120');
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    at = await tick(page);
    fingerprint = await page.getByLabel('Run fingerprint').innerText();
    store = await kvText(page, 3);
    await page.getByRole('button', { name: 'Share' }).click();
    shared = await page.getByLabel('Share link').inputValue();
  });
  assert.match(shared, /\?run=2\.5\.11\.-\.2~/, shared);
  await withPage(shared, async (page) => {
    assert.equal(await tick(page), at, 'the link opens at the tick shared');
    assert.equal(await page.getByLabel('Run fingerprint').innerText(), fingerprint, 'the same trace');
    assert.equal(await kvText(page, 3), store, 'the same store');
    // Played on and travelled back, the run is still the same.
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await setSpeed(page, 400);
    await until(async () => (await tick(page)) > at + 20, `past tick ${at}`);
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await seek(page, at);
    assert.equal(await page.getByLabel('Run fingerprint').innerText(), fingerprint, 'the same trace');
    assert.equal(await kvText(page, 3), store, 'the same store');
  });
});

test('a shared link opens at the moment shared: the tick, the roles, the message picked, paused', async () => {
  let shared;
  let at;
  let fingerprint;
  let seen;
  let picked;
  await withPage(runUrl({ clients: 2, seed: 5 }), async (page) => {
    await setSpeed(page, 100);
    await until(async () => (await tick(page)) > 30, 'tick 30');
    await page.getByRole('button', { name: 'Kill node 4' }).click();
    await until(async () => (await tick(page)) > 90, 'tick 90, well after the last action');
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    const messages = page.getByRole('list', { name: 'Pick a message' }).getByRole('button');
    while ((await messages.count()) < 2) await page.getByRole('button', { name: 'Step', exact: true }).click();
    // The second message: the first is what the panel targets when nothing is picked.
    await messages.nth(1).click();
    picked = await page.locator('.picked').innerText();
    at = await tick(page);
    fingerprint = await page.getByLabel('Run fingerprint').innerText();
    seen = await roles(page);
    await page.getByRole('button', { name: 'Share' }).click();
    shared = await page.getByLabel('Share link').inputValue();
  });
  assert.match(shared, new RegExp(`\\?run=2\\.5\\.5\\.-\\.2~\\d+:k4~@${at}\\.paused\\.100\\.m\\d+$`), shared);
  assert.match(picked, /^Selected: #\d+/);
  await withPage(shared, async (page) => {
    assert.equal(await tick(page), at, 'the same tick');
    assert.equal(await page.getByLabel('Run fingerprint').innerText(), fingerprint, 'the same run hash');
    assert.deepEqual(await roles(page), seen, 'the same roles');
    assert.equal(await page.locator('.picked').innerText(), picked, 'the same message picked');
    await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
    assert.equal(await page.getByLabel('Speed').inputValue(), '100', 'the same speed');
    // Playing at this speed, ten frames would move the run on by more than a tick.
    await animationFrames(page, 10);
    assert.equal(await tick(page), at, 'paused, as it was shared');
    // The whole run is there: back to tick 0, and forward to the moment shared again.
    await seek(page, 0);
    await seek(page, at);
    assert.equal(await page.getByLabel('Run fingerprint').innerText(), fingerprint, 'the same run hash again');
    await page.screenshot({ path: `${SHOTS}/shared-moment.png`, fullPage: true });
  });
});

test('a link shared while playing plays on from the tick shared', async () => {
  let shared;
  await withPage(runUrl({ clients: 2, seed: 5 }), async (page) => {
    await setSpeed(page, 100);
    await until(async () => (await tick(page)) > 20, 'tick 20');
    // Slow, so the narration line about opening the link stays in view on the other side.
    await setSpeed(page, 3);
    await page.getByRole('button', { name: 'Share' }).click();
    shared = await page.getByLabel('Share link').inputValue();
  });
  const at = Number(shared.match(/~@(\d+)\.playing\.3$/)[1]);
  assert.ok(at > 20, shared);
  await withPage(shared, async (page) => {
    assert.match(await narration(page).innerText(), new RegExp(`Opened a shared run at tick ${at}, playing on\\.`));
    const opened = await tick(page);
    assert.ok(opened >= at, `at tick ${opened}, shared at ${at}`);
    await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
    await until(async () => (await tick(page)) > opened, 'the run to play on');
  });
});

test('a link shared further than a page replays on opening opens at that limit, paused, and says so', async () => {
  await withPage(`${env.server.url}/?run=2.5.1.-.2~@150000.playing.8`, async (page) => {
    assert.equal(await tick(page), 100000);
    await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
    assert.match(
      await page.locator('.notice').innerText(),
      /shared at tick 150000; it opens at tick 100000, the furthest a link replays while the page opens/,
    );
  });
});

test('a link made before links carried a moment opens paused at its last action', async () => {
  await withPage(`${env.server.url}/?run=1.5.11.-.2~24:k2`, async (page) => {
    assert.equal(await tick(page), 24);
    await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
    assert.match(await page.getByRole('region', { name: 'Node 2 memory' }).innerText(), /empty/, 'node 2 was killed');
    await seek(page, 0);
  });
});

test('a planted bug turns the checker red, pauses and explains', async () => {
  await withPage(`${env.server.url}/`, async (page) => {
    const checker = page.getByRole('status', { name: 'Checker' });
    assert.match(await checker.innerText(), /OK/);
    await page.getByLabel('Planted bug').selectOption('minority-quorum');
    await setSpeed(page, 100);
    await until(() => leader(page), 'a leader');
    await page.getByLabel('Partition').selectOption('minority');
    await page.getByRole('button', { name: 'Make partition' }).click();
    await until(async () => /violation/.test(await checker.innerText()), 'the checker to turn red');
    const text = await checker.innerText();
    assert.match(text, /slot \d+/, `the explanation names the slot: ${text}`);
    await page.getByRole('button', { name: 'Play', exact: true }).waitFor({ timeout: 5_000 });
    await page.screenshot({ path: `${SHOTS}/checker-red.png`, fullPage: true });
  });
});

test('the layout holds at 375 px wide', async () => {
  await withPage(
    `${env.server.url}/`,
    async (page) => {
      await until(() => leader(page), 'a leader');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal scrolling, got ${overflow} px too wide`);
      await page.screenshot({ path: `${SHOTS}/mobile.png`, fullPage: true });
    },
    { width: 375, height: 800 },
  );
});

/** The number in the "Messages in flight (N)" heading. */
async function inFlight(page) {
  const heading = page.getByRole('region', { name: 'Messages in flight' }).getByRole('heading', { level: 2 });
  return Number((await heading.innerText()).match(/\((\d+)\)/)[1]);
}

/** Pauses the run once a leader is elected and a message is in flight; returns the picked message's id. */
async function pauseWithMessage(page) {
  await setSpeed(page, 25);
  await until(() => leader(page), 'a leader');
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  for (;;) {
    const id = (await page.locator('.picked').innerText()).match(/#(\d+)/)?.[1];
    if (id) return id;
    await page.getByRole('button', { name: 'Step', exact: true }).click();
  }
}

function narration(page) {
  return page.getByRole('region', { name: 'What just happened' });
}

test('a message in flight can be duplicated', async () => {
  await withPage(runUrl(), async (page) => {
    const picked = await pauseWithMessage(page);
    const before = await inFlight(page);
    const what = (await page.locator('.picked').innerText()).match(/#\d+ (\S+ \d+ → \d+)/)[1];
    await page.getByRole('button', { name: 'Duplicate message' }).click();
    await until(async () => (await narration(page).innerText()).includes(`You duplicated message #${picked}.`), 'the narration');
    assert.equal(await inFlight(page), before + 1, 'one more message in flight');
    // The list builds only the rows in view; the ring draws every message.
    const dots = await page.locator('circle.dot').evaluateAll((all) => all.map((dot) => dot.getAttribute('aria-label')));
    assert.ok(dots.filter((label) => label.endsWith(`: ${what}`)).length >= 2, `two copies of ${what} on the ring: ${dots}`);
  });
});

test('a message can be delivered at once, ahead of its time', async () => {
  await withPage(runUrl(), async (page) => {
    const picked = await pauseWithMessage(page);
    const at = await tick(page);
    await page.getByRole('button', { name: 'Deliver now' }).click();
    await until(async () => (await narration(page).innerText()).includes(`You delivered message #${picked} now.`), 'the narration');
    assert.equal(await tick(page), at, 'time did not move');
    const list = await page.getByRole('list', { name: 'Pick a message' }).innerText();
    assert.doesNotMatch(list, new RegExp(`#${picked} `), 'it is no longer in flight');
  });
});

test('keyboard only: tab to a message dot, pick it with Enter, drop it', async () => {
  await withPage(runUrl(), async (page) => {
    await pauseWithMessage(page);
    await page.evaluate(() => document.activeElement?.blur());
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? '');
    /** Presses Tab until `reached` holds (a bounded number of presses, no waiting in between). */
    const tabUntil = async (reached, what) => {
      for (let presses = 0; presses < 100; presses++) {
        await page.keyboard.press('Tab');
        if (await reached()) return;
      }
      throw new Error(`Tab never reached ${what}`);
    };
    await tabUntil(async () => /^Message #/.test(await focused()), 'a message dot');
    const first = await focused();
    await page.keyboard.press('ArrowRight');
    const second = await focused();
    const dots = await page.locator('circle.dot').count();
    if (dots > 1) assert.notEqual(second, first, 'the arrow key moves to the next dot');
    const id = second.match(/^Message #(\d+)/)[1];
    await page.keyboard.press('Enter');
    await until(async () => (await page.locator('.picked').innerText()).includes(`Selected: #${id} `), 'the pick');
    await tabUntil(
      async () => (await page.evaluate(() => document.activeElement?.textContent)) === 'Drop message',
      'the Drop message button',
    );
    await page.keyboard.press('Enter');
    await until(async () => (await narration(page).innerText()).includes(`You dropped message #${id}.`), 'the drop');
  });
});

test('message dots glide between ticks, and the space-time diagram slides with them', async () => {
  await withPage(runUrl({ clients: 2 }), async (page) => {
    await setSpeed(page, 1);
    await until(() => leader(page), 'a leader');
    /** Every dot's position by message id, the diagram's slide and the tick, read in one go. */
    const look = () =>
      page.evaluate(() => ({
        tick: document.querySelector('.tick').textContent,
        slide: document.querySelector('g.arrows').getAttribute('transform'),
        dots: Object.fromEntries(
          [...document.querySelectorAll('circle.dot')].map((dot) => [dot.dataset.id, `${dot.getAttribute('cx')},${dot.getAttribute('cy')}`]),
        ),
      }));
    // A tick lasts a second: two looks a few frames apart within one tick must see the dots move (the clock
    // moves them between Yew's renders). Looks that straddle a tick are taken again.
    const moved = await until(async () => {
      const before = await look();
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(done)))));
      const after = await look();
      if (after.tick !== before.tick) return null;
      const glided = Object.keys(after.dots).filter((id) => id in before.dots && after.dots[id] !== before.dots[id]);
      return glided.length > 0 && after.slide !== before.slide && { before, after, glided };
    }, 'dots moving within a tick');
    assert.ok(moved.glided.length > 0, 'some message dot moved between two frames of one tick');
  });
});

test('the message list scrolls through every message in flight, building only the rows in view', async () => {
  await withPage(runUrl({ clients: 4 }), async (page) => {
    await setSpeed(page, 100);
    await until(async () => (await inFlight(page)) >= 12, 'a dozen messages in flight');
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    const total = await inFlight(page);
    const list = page.getByRole('list', { name: 'Pick a message' });
    const ids = async () => (await list.innerText()).match(/#\d+/g);
    const first = await ids();
    assert.ok(first.length < total, `only the rows in view are built: ${first.length} of ${total}`);
    assert.equal(await list.getByRole('listitem').first().getAttribute('aria-setsize'), String(total));
    // By keyboard: the scroller is a tab stop, and End scrolls it (smoothly) to the bottom, where the last
    // message in flight is listed.
    await page.getByRole('group', { name: 'Scroll the messages in flight' }).focus();
    await page.keyboard.press('End');
    const lastRow = list.getByRole('listitem').last();
    await until(async () => (await lastRow.getAttribute('aria-posinset')) === String(total), 'the last message listed');
    const last = await ids();
    assert.notEqual(last[0], first[0], 'other rows are built after scrolling');
    await list.getByRole('button').last().click();
    const picked = last.at(-1);
    await until(async () => (await page.locator('.picked').innerText()).includes(`Selected: ${picked} `), 'the pick');
  });
});

test('a cut link stops messages one way until it is healed', async () => {
  await withPage(runUrl(), async (page) => {
    await setSpeed(page, 100);
    const boss = await until(() => leader(page), 'a leader');
    const victim = boss === 1 ? 2 : 1;
    await page.getByLabel('Link from', { exact: true }).selectOption(String(boss));
    await page.getByLabel('Link to', { exact: true }).selectOption(String(victim));
    await page.getByRole('button', { name: 'Cut link' }).click();
    assert.match(await narration(page).innerText(), new RegExp(`You cut the link ${boss} → ${victim}\\.`));
    assert.equal(await page.locator('line.link.cut').count(), 1, 'the ring shows the cut');
    await submit(page, { target: boss, key: 'cut', value: 'off' });
    const others = [1, 2, 3, 4, 5].filter((id) => id !== victim);
    for (const node of others) await until(async () => /cut\s+off/.test(await kvText(page, node)), `cut=off on node ${node}`);
    assert.doesNotMatch(await kvText(page, victim), /cut/, `node ${victim} hears nothing from the leader`);
    await page.getByRole('button', { name: 'Heal link' }).click();
    assert.equal(await page.locator('line.link.cut').count(), 0, 'the cut is gone');
    await until(async () => /cut\s+off/.test(await kvText(page, victim)), `node ${victim} to catch up`);
  });
});

test('a paused node falls behind and catches up when resumed', async () => {
  await withPage(runUrl(), async (page) => {
    await setSpeed(page, 100);
    const boss = await until(() => leader(page), 'a leader');
    const sleeper = boss === 1 ? 2 : 1;
    await page.getByRole('button', { name: `Pause node ${sleeper}` }).click();
    const card = page.getByRole('article', { name: `Node ${sleeper}` });
    assert.match(await card.locator('.role-pill').innerText(), /paused/);
    await submit(page, { target: boss, key: 'nap', value: 'time' });
    await until(async () => /nap\s+time/.test(await kvText(page, boss)), 'the write on the leader');
    assert.doesNotMatch(await kvText(page, sleeper), /nap/, 'a paused node applies nothing');
    await page.getByRole('button', { name: `Resume node ${sleeper}` }).click();
    await until(async () => /nap\s+time/.test(await kvText(page, sleeper)), 'the resumed node to catch up');
    assert.doesNotMatch(await card.locator('.role-pill').innerText(), /paused/);
  });
});

test('fault sliders set the rates, are narrated and travel in a shared link', async () => {
  await withPage(runUrl(), async (page) => {
    await setSpeed(page, 100);
    await until(() => leader(page), 'a leader');
    // Paused, so the narration of each change stays in view (with 20% loss, elections would push it out).
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await page.getByLabel('Drop rate').fill('20');
    await until(async () => /Fault rates: drop 20%, duplicate 0%/.test(await narration(page).innerText()), 'the drop rate');
    await page.getByLabel('Duplicate rate').fill('10');
    await until(async () => /Fault rates: drop 20%, duplicate 10%/.test(await narration(page).innerText()), 'the duplicate rate');
    const faults = page.getByRole('region', { name: 'Faults' });
    assert.match(await faults.innerText(), /20%[\s\S]*10%/);
    await page.getByRole('button', { name: 'Share' }).click();
    const shared = await page.getByLabel('Share link').inputValue();
    assert.match(shared, /~\d+:f200000,100000,/, shared);
  });
});

test('a silenced leader is replaced, and steps down as soon as it hears of the higher ballot', async () => {
  await withPage(runUrl(), async (page) => {
    await setSpeed(page, 100);
    const old = await until(() => leader(page), 'a leader');
    await page.getByLabel('Partition').selectOption('leader');
    await page.getByLabel('Direction').selectOption('silenced');
    await page.getByRole('button', { name: 'Make partition' }).click();
    // Every link from the leader is cut, none towards it: four cut links on the ring.
    assert.equal(await page.locator('line.link.cut').count(), 4, 'four links cut one way');
    // The others elect a new leader. The old one still hears everyone, so their heartbeats tell it of the
    // higher ballot and it steps down: one leader again, and not the old one.
    const next = await until(async () => {
      const now = await leader(page);
      return now !== null && now !== old && now;
    }, 'a new, single leader');
    await submit(page, { target: next, key: 'after', value: 'silence' });
    await until(async () => /after\s+silence/.test(await kvText(page, next)), 'the new leader to commit');
    // Nobody hears the old leader, so nobody catches it up: it learns the write once the network heals.
    assert.doesNotMatch(await kvText(page, old), /after/);
    await page.getByRole('button', { name: 'Heal network' }).click();
    await until(async () => /after\s+silence/.test(await kvText(page, old)), `node ${old} to catch up after the heal`);
  });
});

test('a counterexample of synod explore opens in the playground at its violation', async () => {
  // The model checker's shortest path to the planted bug, as the CLI prints it (exit 1: a violation found).
  const bounds = ['--ops', '1', '--crashes', '0', '--drops', '0', '--dups', '0', '--ticks', '0', '--retries', '0'];
  const explore = spawnSync(
    'cargo',
    ['run', '--quiet', '--locked', '--release', '--bin', 'synod', '--', 'explore', '--bug', 'minority-quorum', ...bounds, '--json'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.equal(explore.status, 1, explore.stderr);
  const { counterexample } = JSON.parse(explore.stdout.trim().split('\n').pop());
  assert.match(counterexample.link, /^index\.html\?run=1\.3\.1\.minority-quorum\./);
  await withPage(`${env.server.url}/${counterexample.link.replace(/^index\.html/, '')}`, async (page) => {
    const checker = page.getByRole('status', { name: 'Checker' });
    await until(async () => /violation/.test(await checker.innerText()), 'the checker to show the violation');
    assert.match(await checker.innerText(), /commit-point-is-sound|said every slot below/);
    await page.screenshot({ path: `${SHOTS}/explore-counterexample.png`, fullPage: true });
  });
});

// End-to-end tests of persistence: the playground's own cluster (no `?run=`) lives in IndexedDB, so it survives
// kills, restarts and page reloads; two tabs on it take turns; "Reset cluster" clears it; a corrupt record is
// reported, not a blank page. Pages of one test share a browser context (one origin's IndexedDB).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SHOTS, RENDER_TIMEOUT_MS, kvText, leader, openPage, setSpeed, submit, tick, until, launchedForThisFile } from './harness.mjs';

const env = launchedForThisFile();

/** A page in `context`; the signs of trouble it records join `problems`, checked when the test ends. */
async function open(context, problems) {
  const opened = await openPage(env.browser, env.server.url + '/', { context });
  problems.push(opened.problems);
  return opened.page;
}

async function withContext(body) {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  try {
    await body(context, problems);
    assert.deepEqual(problems.flat(), [], 'the page logged errors');
  } finally {
    await context.close();
  }
}

function storage(page) {
  return page.getByRole('status', { name: 'Storage' });
}

async function reload(page) {
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Synod' }).waitFor({ timeout: RENDER_TIMEOUT_MS });
  await until(async () => /Saved in this browser/.test(await storage(page).innerText()), 'the cluster to be restored');
}

/** Waits for the visitor's last operation to be answered. */
async function answered(page) {
  const history = page.getByRole('list', { name: 'Client history' });
  await until(async () => !/waiting/.test(await history.innerText()), 'the reply');
}

test('acknowledged writes survive several page reloads', async () => {
  await withContext(async (context, problems) => {
    const page = await open(context, problems);
    await until(async () => /Saved in this browser/.test(await storage(page).innerText()), 'IndexedDB to open');
    await setSpeed(page, 100);
    const written = [];
    for (let round = 1; round <= 3; round++) {
      const boss = await until(() => leader(page), 'a leader');
      await submit(page, { target: boss, key: `key${round}`, value: `value${round}` });
      await answered(page);
      written.push([`key${round}`, `value${round}`]);
      const before = await tick(page);
      await reload(page);
      assert.ok((await tick(page)) >= before, 'the run resumes where it was, not from the start');
      const narration = page.getByRole('region', { name: 'What just happened' });
      assert.match(await narration.innerText(), /rebuilt from IndexedDB/);
      await setSpeed(page, 100);
      for (let node = 1; node <= 5; node++) {
        for (const [key, value] of written) {
          await until(async () => new RegExp(`${key}\\s+${value}`).test(await kvText(page, node)), `${key} on node ${node}`);
        }
      }
      const history = await page.getByRole('list', { name: 'Client history' }).innerText();
      for (const [key, value] of written) assert.match(history, new RegExp(`put ${key}=${value}|put ${key} ${value}|${key}`));
    }
    await page.screenshot({ path: `${SHOTS}/persistence-reloaded.png`, fullPage: true });
  });
});

test('a node killed before a reload restarts from IndexedDB after it', async () => {
  await withContext(async (context, problems) => {
    const page = await open(context, problems);
    await until(async () => /Saved in this browser/.test(await storage(page).innerText()), 'IndexedDB to open');
    await setSpeed(page, 100);
    const boss = await until(() => leader(page), 'a leader');
    const victim = boss === 1 ? 2 : 1;
    await submit(page, { target: boss, key: 'kept', value: 'yes' });
    await until(async () => /kept\s+yes/.test(await kvText(page, victim)), 'the write on the victim');
    await page.getByRole('button', { name: `Kill node ${victim}` }).click();
    // An action is saved by the next transaction, and a tick starts only once the transaction before it has
    // committed: two ticks on, the kill is in IndexedDB. (A reload sooner than that may lose the kill, as a
    // crash loses what was not yet written; it then flaked under load.)
    const killedAt = await tick(page);
    await until(async () => (await tick(page)) >= killedAt + 2, 'the kill to be saved');
    await reload(page);
    const memory = page.getByRole('region', { name: `Node ${victim} memory` });
    assert.match(await memory.innerText(), /empty/, 'a killed node stays down across a reload');
    const disk = page.getByRole('region', { name: `Node ${victim} disk` });
    assert.match(await disk.innerText(), /IndexedDB[\s\S]*[1-9]\d* entries/i, 'its IndexedDB disk keeps the log');
    await page.getByRole('button', { name: `Restart node ${victim}` }).click();
    const narration = page.getByRole('region', { name: 'What just happened' });
    await until(async () => new RegExp(`node ${victim} reloaded from IndexedDB: promise`).test(await narration.innerText()), 'the restart');
    await setSpeed(page, 100);
    await until(async () => /kept\s+yes/.test(await kvText(page, victim)), 'the restarted node to hold the write');
  });
});

test('a node added to the cluster is still a member after a reload, with what it learned', async () => {
  await withContext(async (context, problems) => {
    const page = await open(context, problems);
    await until(async () => /Saved in this browser/.test(await storage(page).innerText()), 'IndexedDB to open');
    await setSpeed(page, 100);
    const added = (await page.locator('article.node-card').count()) + 1;
    await page.getByRole('button', { name: 'Add node', exact: true }).click();
    const remove = page.getByRole('button', { name: `Remove node ${added}`, exact: true });
    await until(async () => (await remove.count()) === 1, `node ${added} to join the configuration`);
    const boss = await until(() => leader(page), 'a leader');
    await submit(page, { target: boss, key: 'grown', value: 'yes' });
    await answered(page);
    await until(async () => /grown\s+yes/.test(await kvText(page, added)), `the write on node ${added}`);
    await reload(page);
    const narration = page.getByRole('region', { name: 'What just happened' });
    assert.match(await narration.innerText(), /rebuilt from IndexedDB and checked equal/);
    assert.equal(await remove.count(), 1, `node ${added} is still a member`);
    assert.match(await kvText(page, added), /grown\s+yes/, `node ${added} kept what it learned`);
  });
});

/** The tick the storage bar says IndexedDB holds ("Saved up to tick N."). */
async function savedTick(page) {
  const text = await page.locator('.storage-saved').innerText();
  return Number(text.match(/Saved up to tick (\d+)/)[1]);
}

test('a reload mid-fast-forward comes back to a committed tick, never behind what the page said was saved', async () => {
  await withContext(async (context, problems) => {
    const page = await open(context, problems);
    await until(async () => /Saved in this browser/.test(await storage(page).innerText()), 'IndexedDB to open');
    await setSpeed(page, 2000);
    await until(async () => (await tick(page)) > 600, 'fast-forward past tick 600');
    const saved = await savedTick(page);
    const shown = await tick(page);
    assert.ok(saved <= shown, `saved ${saved} is not ahead of the tick shown, ${shown}`);
    await reload(page);
    const narration = page.getByRole('region', { name: 'What just happened' });
    const said = await narration.innerText();
    // The reload replayed the stored run to the stored tick and found every node equal to what IndexedDB held.
    const back = Number(said.match(/Page reloaded at tick (\d+): the cluster was rebuilt from IndexedDB and checked equal/)[1]);
    assert.ok(back >= saved, `back at tick ${back}, not behind tick ${saved}, which the page said was saved`);
    assert.doesNotMatch(await storage(page).innerText(), /stopped|differs|unreadable/);
    await setSpeed(page, 100);
    await until(async () => (await tick(page)) > back + 10, 'the run to go on from there');
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await until(async () => (await savedTick(page)) === (await tick(page)), 'everything shown to be saved once paused');
  });
});

test('at full speed every action is committed before any later tick is shown', async () => {
  await withContext(async (context, problems) => {
    // Watch IndexedDB from inside the page: each committed run document, and each tick as the page shows it,
    // with the run document committed by then (a transaction's `complete` is a task; the observer runs in the
    // microtask right after the page changed the tick).
    await context.addInitScript(() => {
      window.__committedRun = '';
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function (value, key) {
        if (this.name === 'trace' && key === 'run') {
          this.transaction.addEventListener('complete', () => {
            window.__committedRun = String(value);
          });
        }
        return put.apply(this, arguments);
      };
    });
    const page = await open(context, problems);
    await until(async () => /Saved in this browser/.test(await storage(page).innerText()), 'IndexedDB to open');
    await setSpeed(page, 2000);
    await until(async () => (await tick(page)) > 300, 'fast-forward past tick 300');
    await page.locator('.tick').evaluate((element) => {
      window.__shown = [];
      new MutationObserver(() => {
        window.__shown.push({ tick: Number(element.textContent.replace('tick ', '')), committed: window.__committedRun });
      }).observe(element, { characterData: true, childList: true, subtree: true });
    });
    const frames = () => page.evaluate(() => window.__shown.length);
    const boss = await until(() => leader(page), 'a leader');
    const victim = boss === 1 ? 2 : 1;
    // Several actions, each a few frames apart, so some land while a transaction is under way.
    const acts = [
      () => page.getByRole('button', { name: `Kill node ${victim}` }).click(),
      () => page.getByLabel('Drop rate').fill('10'),
      () => page.getByLabel('Duplicate rate').fill('5'),
      () => page.getByLabel('Drop rate').fill('0'),
      () => page.getByLabel('Duplicate rate').fill('0'),
    ];
    for (const act of acts) {
      const before = await frames();
      await act();
      await until(async () => (await frames()) >= before + 3, 'three frames');
    }
    const last = await frames();
    await until(async () => (await frames()) >= last + 10, 'ten frames more');
    const shown = await page.evaluate(() => window.__shown);
    // Without the action a fresh run starts with at tick 0 (`c1`: the client retries by itself).
    const taken = [...shown.at(-1).committed.matchAll(/~(\d+):([^~"]+)/g)]
      .map(([, at, code]) => [Number(at), code])
      .filter(([at, code]) => !(at === 0 && code === 'c1'));
    assert.equal(taken.length, acts.length, `every action is in IndexedDB: ${shown.at(-1).committed}`);
    const early = shown.flatMap((sample) =>
      taken
        .filter(([at, code]) => at < sample.tick && !sample.committed.includes(`~${at}:${code}`))
        .map(([at, code]) => `tick ${sample.tick} shown before ${code} at tick ${at} was committed`),
    );
    assert.deepEqual(early, []);
  });
});

test('two tabs on one cluster: the second waits and can take over', async () => {
  await withContext(async (context, problems) => {
    const first = await open(context, problems);
    await until(async () => /Saved in this browser/.test(await storage(first).innerText()), 'IndexedDB to open');
    const second = await open(context, problems);
    await until(async () => /open in another tab/.test(await storage(second).innerText()), 'the second tab to wait');
    const stalled = await tick(second);
    // While the first tab drives the cluster on, the second one, waiting, shows no tick of its own.
    const driven = await tick(first);
    await until(async () => (await tick(first)) >= driven + 5, 'the first tab to drive five ticks');
    assert.equal(await tick(second), stalled, 'the waiting tab does not advance the cluster');
    await second.getByRole('button', { name: 'Take over' }).click();
    await until(async () => /Saved in this browser/.test(await storage(second).innerText()), 'the second tab to drive');
    await until(async () => /open in another tab/.test(await storage(first).innerText()), 'the first tab to let go');
    await first.getByRole('button', { name: 'Take over' }).waitFor();
    await setSpeed(second, 100);
    const from = await tick(second);
    await until(async () => (await tick(second)) > from + 5, 'the second tab to drive the cluster');
  });
});

test('Reset cluster deletes what is stored and starts afresh', async () => {
  await withContext(async (context, problems) => {
    const page = await open(context, problems);
    await until(async () => /Saved in this browser/.test(await storage(page).innerText()), 'IndexedDB to open');
    await setSpeed(page, 100);
    await until(async () => (await tick(page)) > 50, 'the run to go on');
    await page.getByRole('button', { name: 'Reset cluster' }).click();
    const narration = page.getByRole('region', { name: 'What just happened' });
    await until(async () => /was reset/.test(await narration.innerText()), 'the reset');
    await reload(page);
    assert.ok((await tick(page)) < 50, 'after a reset and a reload the run starts from the beginning');
  });
});

test('a corrupt record is reported with a reset, not a blank page', async () => {
  await withContext(async (context, problems) => {
    const page = await open(context, problems);
    await until(async () => /Saved in this browser/.test(await storage(page).innerText()), 'IndexedDB to open');
    await until(async () => (await tick(page)) > 5, 'something to be stored');
    await page.evaluate(
      () =>
        new Promise((resolve, reject) => {
          const request = indexedDB.open('synod-playground');
          request.onsuccess = () => {
            const db = request.result;
            const transaction = db.transaction('acceptor', 'readwrite');
            transaction.objectStore('acceptor').put('{"v":99,"nonsense":true}', 1);
            transaction.oncomplete = () => {
              db.close();
              resolve();
            };
            transaction.onerror = () => reject(transaction.error);
          };
          request.onerror = () => reject(request.error);
        }),
    );
    await page.reload();
    await until(async () => /unreadable/.test(await storage(page).innerText()), 'the corrupt record to be reported');
    assert.match(await page.getByRole('alert').filter({ hasText: 'unreadable' }).innerText(), /node 1|acceptor/);
    await page.getByRole('button', { name: 'Reset cluster' }).click();
    await until(async () => /Saved in this browser/.test(await storage(page).innerText()), 'the reset cluster to be saved');
    await page.screenshot({ path: `${SHOTS}/persistence-after-reset.png`, fullPage: true });
  });
});

test('without IndexedDB the cluster runs in memory and says so', async () => {
  await withContext(async (context, problems) => {
    await context.addInitScript(() => {
      Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true });
    });
    const page = await open(context, problems);
    await until(async () => /In memory only/.test(await storage(page).innerText()), 'the fallback to memory');
    assert.match(await page.getByRole('alert').filter({ hasText: 'IndexedDB' }).innerText(), /unavailable/);
    await setSpeed(page, 100);
    const from = await tick(page);
    await until(async () => (await tick(page)) > from + 10, 'the cluster to keep running in memory');
  });
});

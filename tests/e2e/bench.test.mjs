// Frame-time benchmark (issue 7's budget: main-thread work per animation frame ≤ 10 ms at p95 with 5 nodes and
// 1,000-entry logs). Skipped unless SYNOD_BENCH=1:
//
//   scripts/test build && SYNOD_BENCH=1 node --test --test-reporter=spec tests/e2e/bench.test.mjs
//
// The budget is judged on a Chromium trace: the main thread's CPU time per frame (`traceFrames`). While the
// benchmark puts an array at `window.__synodFrameMs` (and `__synodSimMs`, `__synodRenderMs`), the app appends
// each frame's wall-clock time to it: from the start of its animation-frame
// callback (advancing the simulator, building the view) until a zero-delay timeout fires, i.e. after Yew's render
// and the browser's style, layout and paint of that frame; printed too, it includes waiting for a core.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SHOTS, launch, openPage, setSpeed, until } from './harness.mjs';

const BENCH = process.env.SYNOD_BENCH === '1';
let server;
let browser;

before(async () => {
  if (BENCH) ({ server, browser } = await launch());
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** The tick the page shows. */
async function tickNow(page) {
  return Number((await page.locator('.tick').innerText()).replace('tick ', ''));
}

/** `sample` while the run plays, and the ticks per second it made meanwhile. */
async function sampleWithRate(page, seconds) {
  const [from, start] = [await tickNow(page), Date.now()];
  const frames = await sample(page, seconds);
  return { ...frames, ticksPerSecond: Math.round(((await tickNow(page)) - from) / ((Date.now() - start) / 1000)) };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function sample(page, seconds) {
  await page.evaluate(() => {
    window.__synodFrameMs = [];
    window.__synodSimMs = [];
    window.__synodRenderMs = [];
    window.__synodPartOf = [];
  });
  await page.waitForTimeout(seconds * 1000);
  // Taken away again, so the page stops timing itself (a timer and a microtask per frame) before a trace.
  const [frames, sim, render, parts] = await page.evaluate(() => {
    const samples = [window.__synodFrameMs, window.__synodSimMs, window.__synodRenderMs, window.__synodPartOf];
    delete window.__synodFrameMs;
    delete window.__synodSimMs;
    delete window.__synodRenderMs;
    delete window.__synodPartOf;
    return samples;
  });
  const sorted = frames.slice().sort((a, b) => a - b);
  // The split (simulator + view model; that plus Yew's render) depends less on the machine's load than the whole.
  const p95 = (samples) => percentile(samples.slice().sort((a, b) => a - b), 0.95);
  return {
    frames: frames.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    max: sorted[sorted.length - 1],
    simP95: p95(sim),
    renderP95: p95(render),
    // While ticks flow, each frame renders one part of the page (src/ui/stagger.rs): the whole frame's p95 per
    // part (0 Stage, 1 card of node 1, 2 Controls, 3 card of node 2, 4 Side, 5 card of node 3, 6 Diagram, 7 and 8
    // cards of nodes 4 and 5; -1: none or all), to see which part is the heaviest.
    partP95: Object.fromEntries(
      [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8].map((part) => [part, p95(frames.filter((_, index) => parts[index] === part))]),
    ),
  };
}

/**
 * The main thread's CPU time per frame, from a Chromium trace of `seconds`: every task's thread time (`tdur`, so
 * time the thread waited for a core on a busy machine does not count), summed from one animation-frame task to
 * the next. Unlike the page's own wall-clock samples this is work, not work plus waiting.
 */
async function traceFrames(page, seconds) {
  await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
  await page.waitForTimeout(seconds * 1000);
  const trace = JSON.parse((await browser.stopTracing()).toString('utf8'));
  const events = trace.traceEvents ?? trace;
  const main = new Set(
    events.filter((e) => e.name === 'thread_name' && e.args.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`),
  );
  const onMain = events.filter((e) => e.ph === 'X' && main.has(`${e.pid}:${e.tid}`)).sort((a, b) => a.ts - b.ts);
  const fired = onMain.filter((e) => e.name === 'FireAnimationFrame').map((e) => e.ts);
  const frames = [];
  let next = 0;
  for (const task of onMain.filter((e) => e.name === 'RunTask')) {
    while (next < fired.length && fired[next] < task.ts) next += 1;
    const startsFrame = next < fired.length && fired[next] <= task.ts + task.dur;
    if (startsFrame) frames.push(0);
    if (frames.length > 0) frames[frames.length - 1] += (task.tdur ?? task.dur) / 1000;
  }
  frames.pop(); // the last frame may be cut short by the end of the trace
  const sorted = frames.slice().sort((a, b) => a - b);
  return { frames: frames.length, cpuP50: percentile(sorted, 0.5), cpuP95: percentile(sorted, 0.95), cpuMax: sorted.at(-1) };
}

test('frame time with 5 nodes and 1,000-entry logs', { skip: !BENCH && 'set SYNOD_BENCH=1' }, async () => {
  const { page, context, problems } = await openPage(browser, `${server.url}/?run=1.5.1.-.4`);
  try {
    await setSpeed(page, 2000);
    const slots = page.getByRole('region', { name: 'Node 1 log' }).getByRole('heading');
    await until(
      async () => Number((await slots.innerText()).match(/\d+/)[0]) >= 1000,
      'logs of 1,000 slots',
      180_000,
    );
    const fast = await sampleWithRate(page, 5);
    const fastWork = await traceFrames(page, 5);
    await setSpeed(page, 8);
    const normal = await sample(page, 5);
    const work = await traceFrames(page, 5);
    // The page scrolled down to the node cards (at 1280 × 900 they start below the fold, and the browser skips
    // painting what is out of view) and every node's log scrolled halfway down (the virtual scroller keeps those
    // slots in view as entries arrive), with a real scrollbar as tall as the whole log; still only the rows in
    // view are in the DOM.
    await page.getByRole('region', { name: 'Nodes' }).evaluate((nodes) => nodes.scrollIntoView({ block: 'start' }));
    const logs = page.getByRole('group', { name: /^Node \d log entries/ });
    const heights = await logs.evaluateAll((elements) =>
      elements.map((element) => {
        element.scrollTop = element.scrollHeight / 2;
        return element.scrollHeight;
      }),
    );
    const scrolled = await sample(page, 5);
    const scrolledWork = await traceFrames(page, 5);
    const rows = await page.locator('.log-rows tr').count();
    await page.screenshot({ path: `${SHOTS}/bench.png` });
    console.log(`log scroll heights ${JSON.stringify(heights)} px, ${rows} rows in the DOM`);
    console.log(`frame ms at 8 ticks/s: ${JSON.stringify(normal)}`);
    console.log(`main-thread CPU ms per frame at 8 ticks/s (trace): ${JSON.stringify(work)}`);
    console.log(`frame ms at 8 ticks/s, node cards in view, logs scrolled halfway: ${JSON.stringify(scrolled)}`);
    console.log(`main-thread CPU ms per frame, node cards in view, logs scrolled halfway (trace): ${JSON.stringify(scrolledWork)}`);
    console.log(`frame ms and ticks/s reached at speed 2000 (≤80 ticks per frame): ${JSON.stringify(fast)}`);
    console.log(`main-thread CPU ms per frame at speed 2000 (trace): ${JSON.stringify(fastWork)}`);
    assert.ok(heights.every((height) => height >= 1000 * 22), `scrollbars as tall as 1,000 rows: ${heights}`);
    assert.ok(rows <= 5 * 13, `only the rows in view are rendered: ${rows}`);
    assert.ok(work.frames >= 100, `frames traced: ${work.frames}`);
    assert.ok(work.cpuP95 <= 10, `main-thread CPU p95 ${work.cpuP95} ms per frame at the normal speed`);
    assert.ok(scrolledWork.cpuP95 <= 10, `main-thread CPU p95 ${scrolledWork.cpuP95} ms per frame, logs scrolled`);
    // The budget is judged on the traced CPU time; the page's wall-clock samples (printed above) also count
    // time the main thread waited for a core, which on a shared machine says more about the machine.
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

// Issue 17: main-thread CPU per frame while "Explore from here" searches in its worker. Five nodes, seed 7, the
// correct protocol, two background clients, paused at tick 30: with the panel's default bounds the search meets
// about 60,000-75,000 states a second here and stops at its limit of 2,000,000 after about 28 s (the limit, not
// the bounds, ends it), so both traces below fall inside it on a machine twice as fast. Traced paused (the state
// the search started from on screen, only the progress line changing), then playing at 8 ticks/s beside it.
test('frame time while the explorer runs', { skip: !BENCH && 'set SYNOD_BENCH=1' }, async () => {
  const { page, context, problems } = await openPage(browser, `${server.url}/?run=2.5.7.-.2~@30.paused.8`);
  try {
    const explorer = page.getByRole('status', { name: 'Explorer' });
    const progress = async () => Number(((await explorer.innerText()).match(/Exploring: ([\d,]+) states/)?.[1] ?? '0').replaceAll(',', ''));
    const clicked = Date.now();
    await page.getByRole('button', { name: 'Explore from here' }).click();
    // Timed once the worker has loaded its module and reported states, so the traces hold the search itself.
    await until(async () => (await progress()) > 0, 'the explorer to report progress', 60_000);
    const firstNewsMs = Date.now() - clicked;
    const paused = await traceFrames(page, 5);
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    const playing = await traceFrames(page, 5);
    const states = await progress();
    console.log(`main-thread CPU ms per frame while the explorer runs, paused (trace): ${JSON.stringify(paused)}`);
    console.log(`main-thread CPU ms per frame while the explorer runs, playing at 8 ticks/s (trace): ${JSON.stringify(playing)}`);
    console.log(`explorer still running after both traces: ${states.toLocaleString('en')} states`);
    console.log(`from the click to the first progress shown (its modules loaded on first use): ${firstNewsMs} ms`);
    assert.ok(states > 0, 'the search was still running when the traces ended');
    assert.ok(paused.frames >= 100 && playing.frames >= 100, `frames traced: ${paused.frames}, ${playing.frames}`);
    await page.getByRole('button', { name: 'Cancel' }).click();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

// The same with the cluster kept in IndexedDB (the playground's own cluster, no `?run=`): ticks are written in
// groups, one strict transaction each (src/ui/persist.rs), so fast-forward keeps its speed; the frame budget must
// hold all the same.
test('frame time with the cluster in IndexedDB', { skip: !BENCH && 'set SYNOD_BENCH=1' }, async () => {
  const { page, context, problems } = await openPage(browser, `${server.url}/`);
  try {
    await until(async () => /Saved in this browser/.test(await page.getByRole('status', { name: 'Storage' }).innerText()), 'IndexedDB');
    await setSpeed(page, 2000);
    const slots = page.getByRole('region', { name: 'Node 1 log' }).getByRole('heading');
    const startTick = await tickNow(page);
    const start = Date.now();
    await until(
      async () => Number((await slots.innerText()).match(/\d+/)[0]) >= 1000,
      'logs of 1,000 slots',
      600_000,
    );
    const ticksPerSecond = ((await tickNow(page)) - startTick) / ((Date.now() - start) / 1000);
    const fast = await sampleWithRate(page, 5);
    await setSpeed(page, 8);
    const normal = await sample(page, 5);
    const work = await traceFrames(page, 5);
    console.log(`IndexedDB: main-thread CPU ms per frame at 8 ticks/s (trace): ${JSON.stringify(work)}`);
    console.log(`IndexedDB: ticks/s reached at speed 2000 until the logs held 1,000 slots: ${ticksPerSecond.toFixed(0)}`);
    console.log(`IndexedDB: frame ms at 8 ticks/s: ${JSON.stringify(normal)}`);
    console.log(`IndexedDB: frame ms and ticks/s reached at speed 2000, 5 s sampled: ${JSON.stringify(fast)}`);
    assert.ok(work.cpuP95 <= 10, `main-thread CPU p95 ${work.cpuP95} ms per frame at the normal speed`);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

// Issue 8: the embeds of the introduction (ten since issue 15), each keeping its disks in its own IndexedDB database (every tick
// waits for its commit). How long until each plays its first tick (database deleted, opened, written from
// tick 0), and whether each keeps the pace its captions were written for (max(end / 40 s, 2) ticks/s).
test('embeds on the docs page keep their pace with IndexedDB', { skip: !BENCH && 'set SYNOD_BENCH=1' }, async () => {
  const start = Date.now();
  const { page, context, problems } = await openPage(browser, `${server.url}/docs/index.html`, {
    width: 1100,
    waitForApp: false,
  });
  try {
    const frames = await until(async () => {
      const embeds = page.frames().filter((frame) => frame.url().includes('embed=1'));
      return embeds.length === 10 && embeds;
    }, 'ten embeds');
    const read = (frame) =>
      frame
        .evaluate(() => {
          const tick = document.querySelector('.embed-tick')?.textContent.match(/tick (\d+) of (\d+)/);
          const storage = document.querySelector('.embed-storage')?.textContent ?? '';
          return tick && { tick: Number(tick[1]), end: Number(tick[2]), storage };
        })
        .catch(() => null);
    const first = new Array(9).fill(null);
    const series = frames.map(() => []);
    const sampleSeconds = 20;
    while (Date.now() - start < sampleSeconds * 1000) {
      const now = Date.now() - start;
      const states = await Promise.all(frames.map(read));
      states.forEach((state, index) => {
        if (!state) return;
        series[index].push({ at: now, ...state });
        if (first[index] === null && state.tick >= 1) first[index] = now;
      });
      await new Promise((done) => setTimeout(done, 100));
    }
    const rows = series.map((samples, index) => {
      const name = frames[index].url().match(/scenario=([\w-]+)/)[1];
      const last = samples.at(-1);
      const from = samples.find((sample) => sample.at >= 5_000) ?? samples[0];
      const speed = Math.max(last.end / 40, 2);
      const rate = (last.tick - from.tick) / ((last.at - from.at) / 1000);
      return { name, firstTickMs: first[index], ticksPerS: Number(rate.toFixed(2)), want: speed, indexeddb: /IndexedDB "synod-embed-/.test(last.storage) };
    });
    for (const row of rows) console.log(`embed ${JSON.stringify(row)}`);
    assert.ok(rows.every((row) => row.indexeddb), 'every embed keeps its disks in its own database');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

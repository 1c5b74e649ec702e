// The explorer's worker (src/ui/explorer/mod.rs): loads the synod-explorer module and runs the one search the
// page asks for, posting its progress and then its outcome. The page terminates the worker to cancel.
//
// The module's files are not content-hashed by Trunk: the page names its build in this script's `?v=` query,
// and the module is asked for with the same query, so a new build never runs one a browser cached.

const version = new URL(self.location.href).searchParams.get('v') || 'dev';
const base = new URL('./', self.location.href);
const loading = import(new URL(`synod-explorer.js?v=${version}`, base).href).then(async (explorer) => {
  await explorer.default({ module_or_path: new URL(`synod-explorer_bg.wasm?v=${version}`, base) });
  return explorer;
});

self.onmessage = async (event) => {
  let explorer;
  try {
    explorer = await loading;
  } catch (error) {
    self.postMessage({ Failed: `the explorer could not be loaded (${error})` });
    return;
  }
  try {
    self.postMessage(explorer.explore(event.data, (news) => self.postMessage(news)));
  } catch (error) {
    // A panic traps (the module is built with panic = "abort"): the search is over.
    self.postMessage({ Failed: `the explorer failed (${error})` });
  }
  // One search a worker: closing frees the memory the search took (the page starts a new worker for the next).
  self.close();
};

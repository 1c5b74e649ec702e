// Starts Synod's WebAssembly app.
//
// Trunk's default loader is an inline <script>, which the page's Content-Security-Policy refuses. Trunk.toml's
// `pattern_script` writes the hashed names of the JS glue and the .wasm into a JSON block instead; this module
// (external, hashed and integrity-checked by Trunk) reads them and starts the app.

const ERROR_BANNER_ID = 'synod-error';

// Shows what went wrong at the top of the page. The Rust panic hook (src/ui/panic_hook.rs) writes to the same
// banner; when it has already explained a panic, keep its message rather than the trap that follows it.
function showError(message) {
  console.error(message);
  if (document.getElementById(ERROR_BANNER_ID)) return;
  const banner = document.createElement('div');
  banner.id = ERROR_BANNER_ID;
  banner.className = 'error-banner';
  banner.setAttribute('role', 'alert');
  banner.textContent = message;
  document.body.prepend(banner);
}

try {
  const boot = document.getElementById('synod-boot');
  if (!boot) throw new Error('the #synod-boot block is missing: was index.html built by Trunk?');
  const { js, wasm } = JSON.parse(boot.textContent);
  const glue = await import(js);
  await glue.default({ module_or_path: wasm });
} catch (error) {
  showError(`Synod failed to start: ${error}`);
}

/**
 * Headless Chromium for the UI test: Debian's `chromium` (or CHROMIUM_PATH), driven by
 * playwright-core. No browser is downloaded; if none is installed and this runs as root with
 * apt-get available, it is installed from Debian's packages, else the test fails saying how.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

/** Path of a Chromium binary, installing Debian's package when possible. */
export function ensureChromium(): string {
  const found = findChromium();
  if (found) return found;
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' });
  if (process.getuid?.() === 0 && apt.status === 0) {
    console.log("Chromium not found: installing Debian's chromium package …");
    execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'], {
      stdio: 'inherit',
      timeout: 600_000,
    });
    const installed = findChromium();
    if (installed) return installed;
  }
  throw new Error('no Chromium for the UI test: install it (Debian/Ubuntu: `apt-get install chromium`) or set CHROMIUM_PATH');
}

/** Launch headless Chromium with the flags this closed network needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: ensureChromium(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

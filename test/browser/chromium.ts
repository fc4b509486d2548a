/**
 * Where the browser tests find Chromium, and whether they run. Outside CI a machine without it
 * skips them with one line saying how to get it; in CI (CI=true) they are required, so a missing
 * Chromium fails them and a green CI always means the dashboard ran in a browser.
 */
import { existsSync } from 'node:fs';

/** Debian's package by default; FAULTLINE_CHROMIUM points elsewhere. */
export const CHROMIUM = process.env.FAULTLINE_CHROMIUM || '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
export const RUN_BROWSER_TESTS = HAVE_CHROMIUM || Boolean(process.env.CI);

/** Printed once per test run (test/support/global-setup.ts) when the browser tests are skipped. */
export const SKIPPED_LINE = `Browser tests skipped: no Chromium at ${CHROMIUM}. Install it with \`apt-get install -y chromium\` (with CI=true they are required).`;

/** For a beforeAll: in CI without Chromium, say what is missing instead of a launch error. */
export function requireChromium(): void {
  if (!HAVE_CHROMIUM) throw new Error(`No Chromium at ${CHROMIUM}, and CI=true requires the browser tests: apt-get install -y chromium`);
}

// Locates a Chromium binary for Playwright. Shared by playwright.config.ts and
// scripts/ensure-chromium.mjs (plain .mjs so that it runs under bare Node).
//
// Order: $CHROMIUM_PATH, then `chromium` / `chromium-browser` / `google-chrome`
// on the PATH (a `which` done in JS), then a Chromium previously downloaded by
// `npx playwright install chromium`.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium } from '@playwright/test';

const PATH_CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome'];

/** @param {string} file */
function isExecutableFile(file) {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Like `which name`: first executable called `name` on $PATH.
 * @param {string} name
 * @returns {string | undefined}
 */
export function which(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** Chromium downloaded by `npx playwright install chromium`, if present. */
function playwrightManagedChromium() {
  try {
    const candidate = chromium.executablePath();
    return candidate && existsSync(candidate) ? candidate : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @returns {string | undefined} path of a Chromium executable, or undefined
 *   when none is found. If $CHROMIUM_PATH is set it is returned as is (the
 *   caller reports it when it does not exist).
 */
export function findChromium() {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return fromEnv;
  for (const name of PATH_CANDIDATES) {
    const found = which(name);
    if (found) return found;
  }
  return playwrightManagedChromium();
}

/** Launch flags for Chromium in this sandbox-less, mostly offline environment. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

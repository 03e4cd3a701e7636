#!/usr/bin/env node
// Makes sure a Chromium exists for the Playwright suite; run by `npm run test:e2e`.
// Found (see chromium-path.mjs) → print it and exit 0.
// Missing, running as root → install Debian's `chromium` with apt-get.
// Missing, not root       → `npx playwright install chromium`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findChromium } from './chromium-path.mjs';

/** @param {string} sentence */
function fail(sentence) {
  console.error(`ensure-chromium: ${sentence}`);
  process.exit(1);
}

/**
 * @param {string} cmd
 * @param {string[]} args
 */
function run(cmd, args) {
  console.log(`ensure-chromium: $ ${cmd} ${args.join(' ')}`);
  // No questions from apt: CI has no terminal to answer them.
  const result = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.error) return `could not start ${cmd}: ${result.error.message}`;
  if (result.status !== 0) return `'${cmd} ${args.join(' ')}' exited with status ${result.status ?? result.signal}`;
  return undefined;
}

if (process.env.CHROMIUM_PATH && !existsSync(process.env.CHROMIUM_PATH)) {
  fail(`CHROMIUM_PATH is set to '${process.env.CHROMIUM_PATH}', but no such file exists.`);
}

const found = findChromium();
if (found) {
  console.log(`ensure-chromium: using ${found}`);
  process.exit(0);
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (isRoot) {
  console.log("ensure-chromium: no Chromium found. Installing Debian's chromium with apt-get ...");
  const error =
    run('apt-get', ['update']) ??
    run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium']);
  if (error) fail(`Installing Debian's chromium with apt-get failed (${error}); install Chromium yourself or set CHROMIUM_PATH.`);
} else {
  console.log('ensure-chromium: no Chromium found and not root. Downloading Playwright\'s Chromium with npx playwright install chromium ...');
  const error = run('npx', ['playwright', 'install', 'chromium']);
  if (error) fail(`Downloading Chromium with 'npx playwright install chromium' failed (${error}); install Chromium yourself or set CHROMIUM_PATH.`);
}

const installed = findChromium();
if (!installed) fail('Chromium was installed but still cannot be found; set CHROMIUM_PATH to its executable.');
console.log(`ensure-chromium: using ${installed}`);

#!/usr/bin/env node
// Entry point of the `raft-playground` command. The CLI is written in
// TypeScript (src/cli/main.ts); tsx's ESM loader lets Node run it directly.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));

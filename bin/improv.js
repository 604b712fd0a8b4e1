#!/usr/bin/env node
// Launcher, in one process so that signals (SIGINT, SIGTERM, SIGHUP from systemd) reach the CLI's own
// handlers. An installed package ships dist/, plain JavaScript built from src/ (npm run build, run by
// npm pack): nothing is compiled at start. A checkout, where src/ sits beside, runs the TypeScript
// through tsx, so what a developer edits is what runs and no build can be stale.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../dist/cli/main.js', import.meta.url).href);
}

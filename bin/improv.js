#!/usr/bin/env node
// Launcher: registers tsx in this process and runs the TypeScript CLI, so there is no build step and
// no second process: signals (SIGINT, SIGTERM, SIGHUP from systemd) reach the CLI's own handlers.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');

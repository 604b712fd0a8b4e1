/**
 * `improv daemon` without --foreground: starts the daemon as a detached child that logs to
 * `<config>.log`, and returns only once the child says it is up (models loaded, ports and HTTP
 * open), so a daemon that dies at once on a missing model is reported here with its own error and
 * exit code rather than as "started".
 */
import { spawn } from 'node:child_process';
import { openSync, readFileSync, statSync } from 'node:fs';

/** How long a child may take to load its models and open its ports before we give up waiting. */
const READY_TIMEOUT_MS = 120_000;

export class DaemonStartError extends Error {
  override readonly name = 'DaemonStartError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The lines the child wrote to the log during this start (from `offset` on), its error first. */
function childError(logFile: string, offset: number): string {
  const text = readFileSync(logFile, 'utf8').slice(offset);
  const line = text.split('\n').find((l) => l.startsWith('improv: ')) ?? text.trim().split('\n').at(-1);
  return line?.replace(/^improv: /, '') ?? '(nothing in the log)';
}

export async function detachDaemon(file: string): Promise<void> {
  const logFile = `${file}.log`;
  const out = openSync(logFile, 'a');
  const offset = statSync(logFile).size;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1), '--foreground'], {
    detached: true,
    stdio: ['ignore', out, out, 'ipc'],
  });
  const ready = await new Promise<{ port: number } | { code: number | null; signal: string | null }>(
    (resolve) => {
      const timer = setTimeout(() => resolve({ code: null, signal: 'timeout' }), READY_TIMEOUT_MS);
      child.on('message', (m: { ready?: boolean; port?: number }) => {
        if (m.ready) {
          clearTimeout(timer);
          resolve({ port: m.port ?? 0 });
        }
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal });
      });
    },
  );
  if ('port' in ready) {
    child.disconnect();
    child.unref();
    process.stdout.write(
      `improv daemon started in the background (pid ${child.pid ?? '?'}, http port ${ready.port}), logging to ${logFile}\n`,
    );
    return;
  }
  if (ready.signal === 'timeout') {
    child.kill('SIGTERM');
    throw new DaemonStartError(
      `the daemon did not report ready within ${READY_TIMEOUT_MS / 1000} s and was stopped; see ${logFile}`,
      1,
    );
  }
  const why = ready.code !== null ? `exit ${ready.code}` : `signal ${ready.signal ?? '?'}`;
  throw new DaemonStartError(
    `the daemon failed to start (${why}): ${childError(logFile, offset)} (log: ${logFile})`,
    ready.code === 2 ? 2 : 1,
  );
}

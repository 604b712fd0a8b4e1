/**
 * Fault injection for the crash-consistency tests: with IMPROV_CRASH_AT=<point> the process kills
 * itself with SIGKILL (no handler runs, as with the OOM killer) when it reaches that point of a write,
 * so a test can prove what a kill there leaves behind. Unset, it costs one environment lookup.
 */
export type CrashPoint = 'checkpoint:state-written' | 'export:graphs-written';

export function crashPoint(point: CrashPoint): void {
  if (process.env.IMPROV_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
}

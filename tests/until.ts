/** Waiting for an event, not for a time: tests bound their waits by what happens. */

/** Polls `ok` every 20 ms until it holds, or throws after `ms` (a bound, never the measure), saying what was awaited. */
export async function until(
  what: string,
  ok: () => boolean | Promise<boolean>,
  ms = 3000,
  detail: () => string = () => '',
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`waited ${ms} ms for ${what} ${detail()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

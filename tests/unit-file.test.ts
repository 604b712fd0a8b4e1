import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** The [Service] section of the example unit, as key → values (a key may repeat). */
function service(): Map<string, string[]> {
  const text = readFileSync('examples/improv.service', 'utf8');
  const section = text.split(/^\[/m).find((s) => s.startsWith('Service]')) ?? '';
  const out = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    const m = /^(\w+)=(.*)$/.exec(line);
    if (m) out.set(m[1] as string, [...(out.get(m[1] as string) ?? []), m[2] as string]);
  }
  return out;
}

describe('the example systemd unit', () => {
  it('runs as its own user in the audio group (ALSA MIDI devices), and silences after any stop', () => {
    const s = service();
    expect(s.get('User')).toEqual(['improv']);
    expect(s.get('SupplementaryGroups')?.join(' ').split(/\s+/)).toContain('audio');
    expect(s.get('ExecStopPost')?.[0]).toMatch(/improv\.js panic --config /);
    expect(s.get('KillSignal')).toEqual(['SIGTERM']);
  });
});

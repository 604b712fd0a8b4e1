// A Link peer in its own process, for the tests and the bench: another app in the session.
// Commands on stdin, one a line: sample | tempo <bpm> | play | stop | quit. Every answer is a JSON line;
// `sample` gives the session's beat (quantum 4) at a time on the machine's monotonic clock (ms).
'use strict';
const AbletonLink = require('abletonlink-addon');
const readline = require('node:readline');

const link = new AbletonLink();
link.setQuantum(4);
link.enableStartStopSync();
link.enable();
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const hrMs = () => Number(process.hrtime.bigint()) / 1e6;

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  switch (cmd) {
    case 'sample': {
      const before = hrMs();
      const beat = link.getBeat();
      const after = hrMs();
      say({
        at: (before + after) / 2,
        beat,
        tempo: link.getTempo(),
        playing: link.isPlaying(),
        peers: link.getNumPeers(),
      });
      return;
    }
    case 'tempo':
      link.setTempo(Number(arg));
      return say({ ok: cmd });
    case 'play':
      link.play();
      return say({ ok: cmd });
    case 'stop':
      link.stop();
      return say({ ok: cmd });
    case 'quit':
      link.disable();
      process.exit(0);
      return;
    default:
      return say({ error: `unknown command ${cmd}` });
  }
});
say({ ready: true });

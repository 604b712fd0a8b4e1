// The stage page: a piano roll of the player's call and the improviser's answer (scheduled notes show
// before they sound), the chord of each bar and a bar.beat cursor, the controls, the status, and an
// ABC model's tune as notation. Plain browser script, no build step: everything comes from this server.
'use strict';

const token = new URLSearchParams(location.search).get('token');
const query = token ? `?token=${encodeURIComponent(token)}` : '';
const headers = {
  'content-type': 'application/json',
  ...(token ? { authorization: `Bearer ${token}` } : {}),
};
const PAST_MS = 6000;
const AHEAD_MS = 4000;
const COLORS = { call: '#ffb000', answer: '#35d0ff' };

/** What the page knows; tests read it as window.improvStage. */
const stage = {
  offset: 0,
  frame: null,
  notes: [],
  held: new Map(),
  frames: 0,
  drawnChords: [],
  lastTune: '',
  /** The pitch axis's labels as last drawn, and the count-in as shown (tests read both). */
  axisLabels: [],
  countIn: '',
};
window.improvStage = stage;

const $ = (id) => document.getElementById(id);
const NAMES = ['C', 'C♯', 'D', 'E♭', 'E', 'F', 'F♯', 'G', 'A♭', 'A', 'B♭', 'B'];
/** A MIDI number's name, middle C (60) as C4. */
const noteName = (n) => `${NAMES[n % 12]}${Math.floor(n / 12) - 1}`;
const BLACK = new Set([1, 3, 6, 8, 10]);
const AXIS = 48; // px: the pitch axis's gutter
const serverNow = () => performance.now() + stage.offset;

function onFrame(f) {
  stage.frames++;
  switch (f.t) {
    case 'status':
      stage.offset = f.now - performance.now();
      stage.frame = f;
      showStatus(f);
      break;
    case 'note':
      if (f.who === 'call') {
        const n = { who: 'call', note: f.note, at: f.at, end: null };
        stage.notes.push(n);
        stage.held.set(f.note, n);
      } else stage.notes.push({ who: 'answer', note: f.note, at: f.at, end: f.at + f.dur, type: f.type });
      break;
    case 'off': {
      const n = stage.held.get(f.note);
      if (n) n.end = f.at;
      stage.held.delete(f.note);
      break;
    }
    case 'cancel':
      stage.notes = stage.notes.filter((n) => n.who !== 'answer' || n.at <= f.at);
      for (const n of stage.notes) if (n.who === 'answer' && n.end > f.at) n.end = f.at;
      break;
  }
  const old = serverNow() - PAST_MS * 2;
  if (stage.notes.length > 2000 || (stage.notes[0] && (stage.notes[0].end ?? Infinity) < old))
    stage.notes = stage.notes.filter((n) => (n.end ?? Infinity) >= old);
}

/** Beats at a server time, from the last status frame (the tempo holds between frames). */
function beatAt(t) {
  const f = stage.frame;
  return f ? f.position + ((t - f.now) * f.status.bpm) / 60000 : 0;
}

function showStatus(f) {
  const s = f.status;
  $('bpm').textContent = `${s.bpm.toFixed(s.bpm % 1 ? 1 : 0)} BPM`;
  $('state').textContent = s.stopped ? 'stopped' : s.state;
  $('state').className = s.stopped ? 'stopped' : s.state;
  $('stop').textContent = s.stopped ? 'RESUME' : 'STOP';
  $('stop').className = s.stopped ? 'stopped' : '';
  setIfIdle('c-mode', s.mode);
  const model = $('c-model');
  if (model.options.length !== s.model.bundles.length) {
    model.replaceChildren(...s.model.bundles.map((b, i) => new Option(b, String(i))));
  }
  setIfIdle('c-model', String(s.model.index));
  setIfIdle('c-temperature', s.temperature);
  setIfIdle('c-topP', s.topP);
  $('o-temperature').textContent = Number(s.temperature).toFixed(2);
  $('o-topP').textContent = Number(s.topP).toFixed(2);
  setIfIdle('c-bpm', Math.round(s.bpm));
  setIfIdle('c-responseBars', s.responseBars);
  setIfIdle('c-chords', s.chords);
  const port = (p) => (p ? `${p.name} (${p.state})` : 'none');
  const link = s.clock.link ? `, Link ${s.clock.link.peers} peer${s.clock.link.peers === 1 ? '' : 's'}` : '';
  $('status').textContent =
    `in ${port(s.ports.input)} · out ${port(s.ports.output)} · clock ${s.clock.source}${s.clock.running ? '' : ' (stopped)'}${link}` +
    ` · notes sent ${s.notesSent} · late ${s.lateEvents} · dropped input ${s.droppedInput} · dropped frames ${s.page.droppedFrames}`;
  if (f.tune && f.tune !== stage.lastTune && window.ABCJS) {
    stage.lastTune = f.tune;
    window.ABCJS.renderAbc('notation', f.tune, { responsive: 'resize', paddingleft: 10, paddingright: 10 });
  }
  if (!f.tune && stage.lastTune) {
    stage.lastTune = '';
    $('notation').replaceChildren();
  }
}

/** A control shows what the engine has, unless the performer is touching it. */
function setIfIdle(id, value) {
  const el = $(id);
  if (document.activeElement !== el && String(el.value) !== String(value)) el.value = String(value);
}

async function control(body) {
  const res = await fetch(`control${query}`, { method: 'POST', headers, body: JSON.stringify(body) });
  $('error').textContent = res.ok ? '' : (await res.json()).error;
}

$('c-mode').addEventListener('change', (e) => void control({ mode: e.target.value }));
$('c-model').addEventListener('change', (e) => void control({ model: Number(e.target.value) }));
$('c-temperature').addEventListener('input', (e) => void control({ temperature: Number(e.target.value) }));
$('c-topP').addEventListener('input', (e) => void control({ topP: Number(e.target.value) }));
$('c-bpm').addEventListener('change', (e) => void control({ bpm: Number(e.target.value) }));
$('c-responseBars').addEventListener('change', (e) => void control({ responseBars: Number(e.target.value) }));
$('apply-chords').addEventListener('click', () => void control({ chords: $('c-chords').value }));
$('panic').addEventListener('click', () => void control({ panic: true }));
// STOP toggles: stopped → RESUME (the engine's own flag decides, from the last status frame)
$('stop').addEventListener('click', () => void control({ stop: !stage.frame?.status.stopped }));

const canvas = $('roll');
const ctx = canvas.getContext('2d');

function draw() {
  requestAnimationFrame(draw);
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const now = serverNow();
  const span = w - AXIS;
  const nowX = AXIS + span * (PAST_MS / (PAST_MS + AHEAD_MS));
  const x = (t) => nowX + ((t - now) / (PAST_MS + AHEAD_MS)) * span;
  const visible = stage.notes.filter((n) => (n.end ?? now) >= now - PAST_MS && n.at <= now + AHEAD_MS);
  let low = 55;
  let high = 84;
  for (const n of visible) {
    low = Math.min(low, n.note - 2);
    high = Math.max(high, n.note + 2);
  }
  const top = 44;
  const row = (h - top) / (high - low + 1);
  const y = (note) => top + (high - note) * row;
  // the pitch axis: black-key rows shaded, a line at every C; the names are drawn last
  stage.axisLabels = [];
  for (let n = low; n <= high; n++) {
    if (BLACK.has(n % 12)) {
      ctx.fillStyle = '#151515';
      ctx.fillRect(AXIS, y(n), span, row);
    }
    if (n % 12 === 0) {
      ctx.fillStyle = '#333';
      ctx.fillRect(AXIS, y(n) + row, span, 1);
    }
  }
  const f = stage.frame;
  stage.drawnChords = [];
  if (f && f.status.bpm > 0) {
    // beats and bars, with the chord of each bar above it
    const msPerBeat = 60000 / f.status.bpm;
    const first = Math.floor(beatAt(now - PAST_MS));
    const last = Math.ceil(beatAt(now + AHEAD_MS));
    ctx.font = 'bold 26px system-ui, sans-serif';
    for (let b = first; b <= last; b++) {
      const t = f.now + (b - f.position) * msPerBeat;
      const bar = b / f.barQuarters;
      const isBar = Number.isInteger(bar);
      ctx.fillStyle = isBar ? '#666' : '#2c2c2c';
      ctx.fillRect(x(t), isBar ? 0 : top, isBar ? 2 : 1, h);
      if (isBar && f.bars.length) {
        const chord = f.bars[((bar % f.bars.length) + f.bars.length) % f.bars.length];
        ctx.fillStyle = '#ddd';
        ctx.fillText(chord, x(t) + 6, 30);
        stage.drawnChords.push(chord);
      }
    }
    const p = beatAt(now);
    const bar = Math.floor(p / f.barQuarters);
    $('cursor').textContent = `${bar + 1}.${Math.floor(p - bar * f.barQuarters) + 1}`;
    $('chord').textContent = f.bars.length
      ? f.bars[((bar % f.bars.length) + f.bars.length) % f.bars.length]
      : '–';
    // the count-in: while it waits for a call, the beat of the bar counted aloud (1 2 3 4), so the
    // player knows where the one falls
    const waiting = f.status.state === 'idle' && !f.status.stopped && f.status.mode === 'call-response';
    const beat = Math.floor(p - bar * f.barQuarters);
    stage.countIn = $('c-countin').checked && waiting ? String(beat + 1) : '';
    $('countin').textContent = stage.countIn;
  }
  for (const n of visible) {
    ctx.fillStyle = COLORS[n.who];
    ctx.globalAlpha = n.at > now ? 0.55 : 1; // planned, not yet sounding
    const x0 = x(n.at);
    ctx.fillRect(x0, y(n.note) + 1, Math.max(3, x(n.end ?? now) - x0), Math.max(3, row - 2));
  }
  ctx.globalAlpha = 1;
  // the axis's names last, over a gutter of their own (notes scroll out under it)
  ctx.fillStyle = '#1a1a1a';
  ctx.fillRect(0, 0, AXIS, h);
  ctx.font = `bold ${Math.min(18, Math.max(13, row * 0.9))}px system-ui, sans-serif`;
  for (let n = low; n <= high; n++) {
    if (n % 12 !== 0 && row < 16) continue;
    ctx.fillStyle = n % 12 === 0 ? '#ccc' : '#777';
    ctx.fillText(noteName(n), 4, y(n) + row * 0.8);
    stage.axisLabels.push(noteName(n));
  }
  ctx.fillStyle = '#fff';
  ctx.fillRect(nowX - 1, 0, 3, h);
}

new EventSource(`events${query}`).onmessage = (e) => onFrame(JSON.parse(e.data));
requestAnimationFrame(draw);

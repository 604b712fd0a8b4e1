"""Reads a Standard MIDI File with mido (an implementation that is not ours) and reports, as JSON,
its tracks, tempo, note count, pitch range, and every note-on that has no note-off (and the reverse)."""
import json
import sys

import mido

path = sys.argv[1]
mid = mido.MidiFile(path)
sounding = {}
notes = 0
pitches = []
unmatched_offs = 0
tempos = []
per_track = []
for track in mid.tracks:
    count = 0
    for msg in track:
        if msg.type == "set_tempo":
            tempos.append(mido.tempo2bpm(msg.tempo))
        elif msg.type == "note_on" and msg.velocity > 0:
            key = (msg.channel, msg.note)
            sounding[key] = sounding.get(key, 0) + 1
            notes += 1
            count += 1
            pitches.append(msg.note)
        elif msg.type == "note_off" or (msg.type == "note_on" and msg.velocity == 0):
            key = (msg.channel, msg.note)
            if sounding.get(key, 0) > 0:
                sounding[key] -= 1
            else:
                unmatched_offs += 1
    per_track.append({"name": track.name, "notes": count})
print(json.dumps({
    "type": mid.type,
    "ticks_per_beat": mid.ticks_per_beat,
    "tracks": per_track,
    "tempos": tempos,
    "notes": notes,
    "hanging": sum(sounding.values()),
    "unmatched_offs": unmatched_offs,
    "min": min(pitches) if pitches else None,
    "max": max(pitches) if pitches else None,
    "length_seconds": mid.length,
}))

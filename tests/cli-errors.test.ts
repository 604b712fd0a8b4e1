import { afterEach, describe, expect, it, vi } from 'vitest';
import { reportError, UsageError } from '../src/cli/errors.ts';
import { ConfigError } from '../src/daemon/config.ts';
import { PortError } from '../src/midi/ports.ts';
import { PrimingError } from '../src/model/tune.ts';
import { BundleError, InputFileError } from '../src/music/errors.ts';
import { FidelityError } from '../src/train/exportBundle.ts';
import { DeviceError } from '../src/train/ortTrainer.ts';
import { CheckpointError, TrainingDivergedError } from '../src/train/trainer.ts';

describe('reportError', () => {
  const written: string[] = [];
  const spy = () =>
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      written.push(String(s));
      return true;
    });
  afterEach(() => {
    vi.restoreAllMocks();
    written.length = 0;
  });

  it.each([
    new UsageError('--bars 0: must be at least 1'),
    new InputFileError('tune.abc', 'line 3: no K: field'),
    new BundleError('models/x', 'model', 'is missing'),
    new ConfigError('improv.config.json', 'bpm', 'must be within 20–400'),
    new PortError('no port named Nowhere'),
    new PrimingError('the start text primes nothing'),
    new FidelityError('ONNX differs from the trained model'),
    new DeviceError('cuda: no provider'),
    new CheckpointError('out/checkpoint.json', 'is torn'),
    new TrainingDivergedError('loss is NaN'),
    new RangeError('bpm must be within 20–400, got 0'),
  ])('%s: one line naming it, exit 2 (the trainers and the model known without a list by name)', (err) => {
    spy();
    expect(reportError(err)).toBe(2);
    expect(written).toEqual([`improv: ${err.name}: ${err.message}\n`]);
  });

  it('anything else is unexpected: its stack, exit 1', () => {
    spy();
    expect(reportError(new TypeError('x is undefined'))).toBe(1);
    expect(written.join('')).toMatch(/^improv: unexpected error: TypeError: x is undefined\n {4}at /);
  });
});

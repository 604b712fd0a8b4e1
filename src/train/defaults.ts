/**
 * The trainers' names and defaults, apart from the trainers: the command line builds its options
 * from these without loading TensorFlow.js or onnxruntime (850 ms of start-up for `improv --help`).
 */

export type BackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

export type TrainerName = 'ort' | 'tfjs';
export const TRAINERS: readonly TrainerName[] = ['ort', 'tfjs'];

export type TrainDevice = 'cpu' | 'cuda';
export const TRAIN_DEVICES: readonly TrainDevice[] = ['cpu', 'cuda'];

export const ABC_DEFAULTS = {
  embedding: 64,
  units: 256,
  layers: 1,
  dropout: 0,
  epochs: 20,
  batchesPerEpoch: 32,
  learningRate: 5e-3,
  batchSize: 32,
  sequenceLength: 100,
  validation: 0.05,
  seed: 1,
} as const;

export const JAZZ_DEFAULTS = {
  profile: 'full',
  units: 64,
  layers: 1,
  dropout: 0,
  epochs: 100,
  learningRate: 0.01,
  batchSize: 32,
  sequenceLength: 30,
  stride: 3,
  validation: 0.1,
  seed: 1,
} as const;

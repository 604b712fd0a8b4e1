/**
 * The LSTM language model both pipelines train: one-hot input [batch, T, V] (the start step is an
 * all-zero row), an optional bias-free Dense "embedding" (a lookup that trains with MatMul gradients on
 * every backend and exports as Gather), stacked LSTMs, and a Dense softmax over the vocabulary.
 */
import * as tf from '@tensorflow/tfjs';

export interface LstmLmSpec {
  readonly vocabSize: number;
  readonly units: number;
  readonly layers: number;
  readonly dropout: number;
  /** Embedding width; 0 feeds the one-hot vector straight into the LSTM (the jazz model). */
  readonly embedding: number;
  readonly seed: number;
  /**
   * Width of the conditioning input (conditioning.ts) concatenated to the token's input row; 0 or
   * absent: none. It needs the one-hot input (embedding 0).
   */
  readonly conditioning?: number;
}

/** The conditioning width of a spec (0 when unconditioned). */
export const conditionWidth = (spec: LstmLmSpec): number => spec.conditioning ?? 0;

export const layerNames = {
  embedding: 'embedding',
  lstm: (i: number): string => `lstm_${i}`,
  output: 'output',
} as const;

/** Builds the Keras-style model; LSTM gates use sigmoid (not tfjs' hardSigmoid) to match ONNX's LSTM. */
export function buildModel(spec: LstmLmSpec): tf.Sequential {
  const model = tf.sequential();
  const C = conditionWidth(spec);
  if (C > 0 && spec.embedding > 0)
    throw new RangeError('a conditioned model takes one-hot tokens: embedding must be 0');
  const inputShape = [null, spec.vocabSize + C];
  if (spec.embedding > 0) {
    model.add(
      tf.layers.dense({
        name: layerNames.embedding,
        units: spec.embedding,
        useBias: false,
        inputShape,
        kernelInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: spec.seed }),
      }),
    );
  }
  for (let i = 0; i < spec.layers; i++) {
    model.add(
      tf.layers.lstm({
        name: layerNames.lstm(i),
        units: spec.units,
        returnSequences: true,
        recurrentActivation: 'sigmoid',
        kernelInitializer: tf.initializers.glorotUniform({ seed: spec.seed + 1 + i }),
        recurrentInitializer: tf.initializers.glorotUniform({ seed: spec.seed + 101 + i }),
        ...(i === 0 && spec.embedding === 0 ? { inputShape } : {}),
      }),
    );
    if (spec.dropout > 0) model.add(tf.layers.dropout({ rate: spec.dropout, seed: spec.seed + 201 + i }));
  }
  model.add(
    tf.layers.dense({
      name: layerNames.output,
      units: spec.vocabSize,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: spec.seed + 301 }),
    }),
  );
  return model;
}

/**
 * One-hot batch for ids [batch][T]; ids equal to vocabSize (the start token) give an all-zero row.
 * With `conditions` (one [T × width] array per row), each step's row is the one-hot then its conditioning.
 */
export function oneHotBatch(
  rows: readonly (readonly number[])[],
  vocabSize: number,
  conditions?: { readonly rows: readonly Float32Array[]; readonly width: number },
): tf.Tensor3D {
  const T = rows[0]?.length ?? 0;
  const C = conditions?.width ?? 0;
  const W = vocabSize + C;
  const data = new Float32Array(rows.length * T * W);
  rows.forEach((row, b) =>
    row.forEach((id, t) => {
      if (id >= 0 && id < vocabSize) data[(b * T + t) * W + id] = 1;
      if (conditions)
        data.set(
          (conditions.rows[b] as Float32Array).subarray(t * C, (t + 1) * C),
          (b * T + t) * W + vocabSize,
        );
    }),
  );
  return tf.tensor3d(data, [rows.length, T, W]);
}

/** The trained weights, by role, as plain arrays (Keras layout: kernels [in, 4H] with gates i, f, c, o). */
export interface LstmLmWeights {
  readonly embedding: Float32Array | null;
  readonly lstm: readonly { kernel: Float32Array; recurrent: Float32Array; bias: Float32Array }[];
  readonly outputKernel: Float32Array;
  readonly outputBias: Float32Array;
}

export function extractWeights(model: tf.LayersModel, spec: LstmLmSpec): LstmLmWeights {
  const read = (name: string, i: number): Float32Array =>
    (model.getLayer(name).getWeights()[i] as tf.Tensor).dataSync() as Float32Array;
  return {
    embedding: spec.embedding > 0 ? read(layerNames.embedding, 0) : null,
    lstm: Array.from({ length: spec.layers }, (_, i) => ({
      kernel: read(layerNames.lstm(i), 0),
      recurrent: read(layerNames.lstm(i), 1),
      bias: read(layerNames.lstm(i), 2),
    })),
    outputKernel: read(layerNames.output, 0),
    outputBias: read(layerNames.output, 1),
  };
}

/**
 * Writes the trained LSTM language model as an ONNX graph (opset 14) with onnx-proto:
 *   tokens int64 [seq, batch] ─Gather→ x ─(LSTM × layers)→ ─MatMul+Add→ logits ─Softmax→ probs
 * with h, c [layers, batch, units] in and out, and a dynamic sequence axis so one graph serves
 * priming (many steps) and live stepping (one step). Keras' gate order is i, f, c, o; ONNX's is
 * i, o, f, c, so the kernels are re-ordered here.
 */
import onnxProto from 'onnx-proto';
import { conditionWidth, type LstmLmSpec, type LstmLmWeights } from './model.ts';
import { CONDITION_INPUT } from './ortGraph.ts';

const { onnx } = onnxProto;

export const ONNX_IO = {
  inputs: { tokens: 'tokens', h: 'h0', c: 'c0' },
  outputs: { logits: 'logits', probs: 'probs', h: 'hn', c: 'cn' },
} as const;

const OPSET = 14;
/** ONNX gate g (i, o, f, c) takes Keras gate KERAS_GATE[g] (Keras order i, f, c, o). */
const KERAS_GATE = [0, 3, 1, 2] as const;

export function floatTensor(name: string, dims: number[], data: Float32Array): onnxProto.onnx.ITensorProto {
  return {
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
  };
}

export function int64Tensor(name: string, values: number[]): onnxProto.onnx.ITensorProto {
  const data = BigInt64Array.from(values.map((v) => BigInt(v)));
  return {
    name,
    dims: [values.length],
    dataType: onnx.TensorProto.DataType.INT64,
    rawData: new Uint8Array(data.buffer),
  };
}

export function valueInfo(
  name: string,
  elemType: number,
  dims: (number | string)[],
): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export const intAttr = (name: string, i: number): onnxProto.onnx.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.INT,
  i,
});

/** Transposes Keras [in, 4H] (i f c o) into ONNX [4H, in] (i o f c). */
function reorderGates(kernel: Float32Array, inputs: number, units: number): Float32Array {
  const out = new Float32Array(4 * units * inputs);
  for (let g = 0; g < 4; g++) {
    const kg = KERAS_GATE[g] as number;
    for (let u = 0; u < units; u++) {
      for (let k = 0; k < inputs; k++)
        out[(g * units + u) * inputs + k] = kernel[k * 4 * units + kg * units + u] as number;
    }
  }
  return out;
}

function reorderBias(bias: Float32Array, units: number): Float32Array {
  const out = new Float32Array(8 * units); // Wb then Rb (zeros): Keras has one bias
  for (let g = 0; g < 4; g++)
    out.set(
      bias.subarray((KERAS_GATE[g] as number) * units, ((KERAS_GATE[g] as number) + 1) * units),
      g * units,
    );
  return out;
}

/** Keras [in, 4H] (i f c o) back from ONNX [4H, in] (i o f c): reorderGates undone. */
function kerasGates(onnxKernel: Float32Array, inputs: number, units: number): Float32Array {
  const out = new Float32Array(4 * units * inputs);
  for (let g = 0; g < 4; g++) {
    const kg = KERAS_GATE[g] as number;
    for (let u = 0; u < units; u++) {
      for (let k = 0; k < inputs; k++)
        out[k * 4 * units + kg * units + u] = onnxKernel[(g * units + u) * inputs + k] as number;
    }
  }
  return out;
}

/**
 * The weights of a graph buildOnnx wrote, read back (to build another graph of the same model, such
 * as its quantized variant, without its trainer). Throws naming the tensor that is missing or of
 * another size than the spec says.
 */
export function readOnnxWeights(bytes: Uint8Array, spec: LstmLmSpec): LstmLmWeights {
  const graph = onnx.ModelProto.decode(bytes).graph;
  const V = spec.vocabSize;
  const H = spec.units;
  const tokenWidth = spec.embedding > 0 ? spec.embedding : V;
  const tensor = (name: string, size: number): Float32Array => {
    const t = graph?.initializer?.find((i) => i.name === name);
    const raw = t?.rawData;
    if (!raw || t.dataType !== onnx.TensorProto.DataType.FLOAT)
      throw new RangeError(`the ONNX graph has no float tensor '${name}'`);
    const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    if (data.length !== size)
      throw new RangeError(`the ONNX tensor '${name}' has ${data.length} values, the spec needs ${size}`);
    return data;
  };
  const inputWidth = tokenWidth + conditionWidth(spec);
  return {
    embedding:
      spec.embedding > 0 ? tensor('input_table', (V + 1) * tokenWidth).slice(0, V * tokenWidth) : null,
    lstm: Array.from({ length: spec.layers }, (_, l) => {
      const inW = l === 0 ? inputWidth : H;
      const b = tensor(`B${l}`, 8 * H);
      const bias = new Float32Array(4 * H);
      for (let g = 0; g < 4; g++) bias.set(b.subarray(g * H, (g + 1) * H), (KERAS_GATE[g] as number) * H);
      return {
        kernel: kerasGates(tensor(`W${l}`, 4 * H * inW), inW, H),
        recurrent: kerasGates(tensor(`R${l}`, 4 * H * H), H, H),
        bias,
      };
    }),
    outputKernel: tensor('Wd', H * V),
    outputBias: tensor('bd', V),
  };
}

/** Serialises the model to ONNX bytes. */
export function buildOnnx(spec: LstmLmSpec, w: LstmLmWeights, docString: string): Uint8Array {
  const V = spec.vocabSize;
  const H = spec.units;
  const C = conditionWidth(spec);
  const tokenWidth = spec.embedding > 0 ? spec.embedding : V;
  const inputWidth = tokenWidth + C;
  // Row V is the start token: all zeros, the "nothing played yet" input.
  const table = new Float32Array((V + 1) * tokenWidth);
  if (w.embedding) table.set(w.embedding);
  else for (let i = 0; i < V; i++) table[i * V + i] = 1;
  const initializer: onnxProto.onnx.ITensorProto[] = [floatTensor('input_table', [V + 1, tokenWidth], table)];
  const node: onnxProto.onnx.INodeProto[] = [
    {
      opType: 'Gather',
      input: ['input_table', ONNX_IO.inputs.tokens],
      output: [C > 0 ? 'x_token' : 'x0'],
      name: 'lookup',
      attribute: [intAttr('axis', 0)],
    },
  ];
  // a conditioned model's input row: the token's, then what it hears ([seq, batch, C])
  if (C > 0)
    node.push({
      opType: 'Concat',
      input: ['x_token', CONDITION_INPUT],
      output: ['x0'],
      name: 'condition',
      attribute: [intAttr('axis', 2)],
    });
  initializer.push(int64Tensor('axis0', [0]), int64Tensor('axis1', [1]));
  const hOut: string[] = [];
  const cOut: string[] = [];
  let x = 'x0';
  w.lstm.forEach((layer, l) => {
    const inW = l === 0 ? inputWidth : H;
    initializer.push(
      floatTensor(`W${l}`, [1, 4 * H, inW], reorderGates(layer.kernel, inW, H)),
      floatTensor(`R${l}`, [1, 4 * H, H], reorderGates(layer.recurrent, H, H)),
      floatTensor(`B${l}`, [1, 8 * H], reorderBias(layer.bias, H)),
      int64Tensor(`s${l}`, [l]),
      int64Tensor(`e${l}`, [l + 1]),
    );
    node.push(
      {
        opType: 'Slice',
        input: [ONNX_IO.inputs.h, `s${l}`, `e${l}`, 'axis0'],
        output: [`h0_${l}`],
        name: `h_slice${l}`,
      },
      {
        opType: 'Slice',
        input: [ONNX_IO.inputs.c, `s${l}`, `e${l}`, 'axis0'],
        output: [`c0_${l}`],
        name: `c_slice${l}`,
      },
      {
        opType: 'LSTM',
        name: `lstm${l}`,
        input: [x, `W${l}`, `R${l}`, `B${l}`, '', `h0_${l}`, `c0_${l}`],
        output: [`Y${l}`, `hn_${l}`, `cn_${l}`],
        attribute: [intAttr('hidden_size', H)],
      },
      { opType: 'Squeeze', input: [`Y${l}`, 'axis1'], output: [`x${l + 1}`], name: `squeeze${l}` },
    );
    hOut.push(`hn_${l}`);
    cOut.push(`cn_${l}`);
    x = `x${l + 1}`;
  });
  addOutputs(node, initializer, x, hOut, cOut, spec, w);
  return encodeLm(
    spec,
    { name: 'lstm_lm', node, initializer },
    docString,
    [{ domain: '', version: OPSET }],
    7,
  );
}

/** The output layer (MatMul + Add → logits, Softmax → probs) and the state outputs, for both graphs. */
export function addOutputs(
  node: onnxProto.onnx.INodeProto[],
  initializer: onnxProto.onnx.ITensorProto[],
  y: string,
  hOut: readonly string[],
  cOut: readonly string[],
  spec: LstmLmSpec,
  w: LstmLmWeights,
): void {
  const V = spec.vocabSize;
  const H = spec.units;
  initializer.push(floatTensor('Wd', [H, V], w.outputKernel), floatTensor('bd', [V], w.outputBias));
  node.push(
    { opType: 'MatMul', input: [y, 'Wd'], output: ['matmul_out'], name: 'dense' },
    { opType: 'Add', input: ['matmul_out', 'bd'], output: [ONNX_IO.outputs.logits], name: 'bias' },
    {
      opType: 'Softmax',
      input: [ONNX_IO.outputs.logits],
      output: [ONNX_IO.outputs.probs],
      name: 'softmax',
      attribute: [intAttr('axis', -1)],
    },
    {
      opType: 'Concat',
      input: [...hOut],
      output: [ONNX_IO.outputs.h],
      name: 'h_concat',
      attribute: [intAttr('axis', 0)],
    },
    {
      opType: 'Concat',
      input: [...cOut],
      output: [ONNX_IO.outputs.c],
      name: 'c_concat',
      attribute: [intAttr('axis', 0)],
    },
  );
}

/** Serialises a language-model graph with the runtime's inputs and outputs (ONNX_IO). */
export function encodeLm(
  spec: LstmLmSpec,
  graph: { name: string; node: onnxProto.onnx.INodeProto[]; initializer: onnxProto.onnx.ITensorProto[] },
  docString: string,
  opsetImport: onnxProto.onnx.IOperatorSetIdProto[],
  irVersion: number,
): Uint8Array {
  const V = spec.vocabSize;
  const H = spec.units;
  const L = spec.layers;
  const C = conditionWidth(spec);
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const model: onnxProto.onnx.IModelProto = {
    irVersion,
    producerName: 'improv',
    producerVersion: '0.1.0',
    docString,
    opsetImport,
    graph: {
      ...graph,
      input: [
        valueInfo(ONNX_IO.inputs.tokens, onnx.TensorProto.DataType.INT64, ['seq', 'batch']),
        valueInfo(ONNX_IO.inputs.h, FLOAT, [L, 'batch', H]),
        valueInfo(ONNX_IO.inputs.c, FLOAT, [L, 'batch', H]),
        ...(C > 0 ? [valueInfo(CONDITION_INPUT, FLOAT, ['seq', 'batch', C])] : []),
      ],
      output: [
        valueInfo(ONNX_IO.outputs.logits, FLOAT, ['seq', 'batch', V]),
        valueInfo(ONNX_IO.outputs.probs, FLOAT, ['seq', 'batch', V]),
        valueInfo(ONNX_IO.outputs.h, FLOAT, [L, 'batch', H]),
        valueInfo(ONNX_IO.outputs.c, FLOAT, [L, 'batch', H]),
      ],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
}

/**
 * The training step of the LSTM language model as one ONNX graph, for onnxruntime to run: the forward
 * pass, the mean cross-entropy loss, and the gradient of every parameter, written out by hand (ORT's
 * training API is gone from Node; there is no autodiff to lean on).
 *
 *   tokens [T, B] ─Gather→ x ─(× layers: x·K + b, then a Scan over time: z = xw_t + h·R, gates, c, h)→
 *   y ─MatMul+Add→ logits ─SoftmaxCrossEntropyLoss→ loss
 *
 * The forward Scan keeps what the backward pass needs (c before each step, tanh c, the four gates),
 * so nothing is recomputed. The backward pass is a reverse Scan whose only matrix work per step is
 * dz_t·Rᵀ; the weight gradients are then single large MatMuls over all T × B rows (dK = xᵀ·dz,
 * dR = h_prevᵀ·dz). Parameters are graph inputs in Keras' layout (kernels [in, 4H], gates i, f, c, o),
 * so the trainer updates them in place and the exporter takes them as they are.
 *
 * The start token (id = vocabSize) is an all-zero input row, as in the tfjs model. Each window starts
 * from zero state (truncated back-propagation through the window), as the tfjs trainer does.
 */
import onnxProto from 'onnx-proto';
import { conditionWidth, type LstmLmSpec } from './model.ts';

const { onnx } = onnxProto;
type INode = onnxProto.onnx.INodeProto;
type IAttr = onnxProto.onnx.IAttributeProto;
type IValue = onnxProto.onnx.IValueInfoProto;
type ITensor = onnxProto.onnx.ITensorProto;

const OPSET = 17;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/** The parameters in the order the graph takes them and returns their gradients. */
export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

export function paramSpecs(spec: LstmLmSpec): ParamSpec[] {
  const V = spec.vocabSize;
  const H = spec.units;
  const E = spec.embedding;
  const params: ParamSpec[] = [];
  if (E > 0) params.push({ name: 'embedding', shape: [V, E] });
  for (let l = 0; l < spec.layers; l++) {
    const inW = l > 0 ? H : (E > 0 ? E : V) + conditionWidth(spec);
    params.push(
      { name: `kernel${l}`, shape: [inW, 4 * H] },
      { name: `recurrent${l}`, shape: [H, 4 * H] },
      { name: `bias${l}`, shape: [4 * H] },
    );
  }
  params.push({ name: 'outputKernel', shape: [H, V] }, { name: 'outputBias', shape: [V] });
  return params;
}

export const gradName = (param: string): string => `grad_${param}`;

/** The conditioning input of a conditioned model ([T, B, width]), beside the tokens. */
export const CONDITION_INPUT = 'cond';

/** The dropout mask input of layer l ([T, B, units]: 0, or 1 / (1 − rate)). */
export const dropoutName = (layer: number): string => `dropout${layer}`;

const ints = (name: string, values: number[]): IAttr => ({
  name,
  type: onnx.AttributeProto.AttributeType.INTS,
  ints: values,
});
const int = (name: string, i: number): IAttr => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });

function value(name: string, elemType: number, dims?: (number | string)[]): IValue {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        ...(dims
          ? { shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } }
          : {}),
      },
    },
  };
}

function int64s(name: string, values: number[]): ITensor {
  return {
    name,
    dims: [values.length],
    dataType: INT64,
    rawData: new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(v))).buffer),
  };
}

function floats(name: string, dims: number[], values: number[]): ITensor {
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) };
}

/** Collects nodes with fresh names: `op('Add', [a, b])` returns the output's name. */
class Builder {
  readonly nodes: INode[] = [];
  private n = 0;
  constructor(private readonly prefix: string) {}

  op(opType: string, input: string[], attribute: IAttr[] = [], outputs = 1): string[] {
    const id = `${this.prefix}${this.n++}`;
    const output = Array.from({ length: outputs }, (_, i) => `${id}_${opType}${i}`);
    this.nodes.push({ opType, input, output, name: id, attribute });
    return output;
  }

  one(opType: string, input: string[], attribute: IAttr[] = []): string {
    return this.op(opType, input, attribute)[0] as string;
  }

  /** x · (1 − x), the derivative of the sigmoid at its output. */
  sigmoidSlope(x: string): string {
    return this.one('Mul', [x, this.one('Sub', ['one', x])]);
  }
}

/** The forward step of one layer: z = xw_t + h·R, gates, new c and h; keeps what backward needs. */
function forwardBody(R: string): onnxProto.onnx.IGraphProto {
  const b = new Builder('f');
  const z = b.one('Add', ['xw_t', b.one('MatMul', ['h', R])]);
  const [zi, zf, zg, zo] = b.op('Split', [z], [int('axis', 1)], 4) as [string, string, string, string];
  const i = b.one('Sigmoid', [zi]);
  const f = b.one('Sigmoid', [zf]);
  const g = b.one('Tanh', [zg]);
  const o = b.one('Sigmoid', [zo]);
  const c = b.one('Add', [b.one('Mul', [f, 'c']), b.one('Mul', [i, g])]);
  const tc = b.one('Tanh', [c]);
  const h = b.one('Mul', [o, tc]);
  const outs = { h_out: h, c_out: c, y: h, c_prev: 'c', tc_s: tc, i_s: i, f_s: f, g_s: g, o_s: o };
  for (const [name, from] of Object.entries(outs))
    b.nodes.push({ opType: 'Identity', input: [from], output: [name] });
  return {
    name: 'forward_step',
    node: b.nodes,
    input: [value('h', FLOAT), value('c', FLOAT), value('xw_t', FLOAT)],
    output: Object.keys(outs).map((n) => value(n, FLOAT)),
  };
}

/** The backward step of one layer, from its output gradient to dz_t, carrying dh and dc·f back. */
function backwardBody(RT: string): onnxProto.onnx.IGraphProto {
  const b = new Builder('b');
  const dh = b.one('Add', ['dy_t', 'dh_rec']);
  const dO = b.one('Mul', [b.one('Mul', [dh, 'tc_t']), b.sigmoidSlope('o_t')]);
  const tanhSlope = b.one('Sub', ['one', b.one('Mul', ['tc_t', 'tc_t'])]);
  const dc = b.one('Add', [b.one('Mul', [b.one('Mul', [dh, 'o_t']), tanhSlope]), 'dcf']);
  const dI = b.one('Mul', [b.one('Mul', [dc, 'g_t']), b.sigmoidSlope('i_t')]);
  const dF = b.one('Mul', [b.one('Mul', [dc, 'cprev_t']), b.sigmoidSlope('f_t')]);
  const dG = b.one('Mul', [b.one('Mul', [dc, 'i_t']), b.one('Sub', ['one', b.one('Mul', ['g_t', 'g_t'])])]);
  const dz = b.one('Concat', [dI, dF, dG, dO], [int('axis', 1)]);
  const outs = { dh_out: b.one('MatMul', [dz, RT]), dcf_out: b.one('Mul', [dc, 'f_t']), dz_s: dz };
  for (const [name, from] of Object.entries(outs))
    b.nodes.push({ opType: 'Identity', input: [from], output: [name] });
  return {
    name: 'backward_step',
    node: b.nodes,
    input: ['dh_rec', 'dcf', 'dy_t', 'cprev_t', 'tc_t', 'i_t', 'f_t', 'g_t', 'o_t'].map((n) =>
      value(n, FLOAT),
    ),
    output: Object.keys(outs).map((n) => value(n, FLOAT)),
  };
}

const graphAttr = (name: string, g: onnxProto.onnx.IGraphProto): IAttr => ({
  name,
  type: onnx.AttributeProto.AttributeType.GRAPH,
  g,
});

/**
 * The training-step graph: inputs tokens, targets [T, B] (a target of −1 is padding, left out of the
 * loss, and so is an input of −1: an all-zero row) and the parameters; outputs the mean loss over the
 * real targets, their count, and (unless `gradients` is false: validation) every parameter's gradient.
 */
export function buildTrainingGraph(spec: LstmLmSpec, gradients = true): Uint8Array {
  // dropout after each LSTM, as the tfjs model has it: a mask input per layer (0, or 1 / (1 − rate)),
  // drawn by the trainer from its seed; the validation graph has none
  const dropout = gradients && spec.dropout > 0;
  const V = spec.vocabSize;
  const H = spec.units;
  const E = spec.embedding;
  const b = new Builder('n');
  const initializer: ITensor[] = [
    floats('one', [], [1]),
    int64s('axis0', [0]),
    int64s('flat', [-1]),
    int64s('zero_i', [0]),
    int64s('one_i', [1]),
    int64s('minus1_i', [-1]),
    floats('onehot_values', [2], [0, 1]),
    int64s('depth', [V + 1]),
    int64s('V_i', [V]),
  ];
  const shapeOf = (x: string): string => b.one('Shape', [x]);
  // [T, B] of the batch, and T·B
  const tb = shapeOf('tokens');
  const rows = (x: string, width: number | string): string =>
    b.one('Reshape', [x, typeof width === 'string' ? width : addConst(`w${width}`, [-1, width])]);
  function addConst(name: string, values: number[]): string {
    if (!initializer.some((t) => t.name === name)) initializer.push(int64s(name, values));
    return name;
  }
  const tbWidth = (width: number): string =>
    b.one('Concat', [tb, addConst(`c${width}`, [width])], [int('axis', 0)]);
  // one-hot of the inputs over V + 1 (the start token is column V, dropped: an all-zero row)
  const tokensFlat = b.one('Reshape', ['tokens', 'flat']);
  const oneHotFull = b.one('OneHot', [tokensFlat, 'depth', 'onehot_values'], [int('axis', -1)]);
  const oneHot = b.one('Slice', [oneHotFull, 'zero_i', 'V_i', 'one_i']); // [T·B, V]

  const C = conditionWidth(spec);
  const tokenIn = E > 0 ? b.one('MatMul', [oneHot, 'embedding']) : oneHot; // [T·B, E or V]
  // a conditioned model's first layer sees the token's row, then the conditioning
  let x2d = C > 0 ? b.one('Concat', [tokenIn, rows(CONDITION_INPUT, C)], [int('axis', 1)]) : tokenIn;
  const layerIn: string[] = [];
  const saved: { cprev: string; tc: string; i: string; f: string; g: string; o: string; hprev2d: string }[] =
    [];
  let y = '';
  for (let l = 0; l < spec.layers; l++) {
    layerIn.push(x2d);
    const xw = b.one('Add', [b.one('MatMul', [x2d, `kernel${l}`]), `bias${l}`]);
    const xw3 = b.one('Reshape', [xw, tbWidth(4 * H)]);
    // zero state [B, H]
    const batch = b.one('Slice', [tb, 'one_i', addConst('two_i', [2]), 'zero_i']);
    const zeros = b.one('ConstantOfShape', [
      b.one('Concat', [batch, addConst(`c${H}`, [H])], [int('axis', 0)]),
    ]);
    const [, , ys, cprev, tc, i, f, g, o] = b.op(
      'Scan',
      [zeros, zeros, xw3],
      [int('num_scan_inputs', 1), graphAttr('body', forwardBody(`recurrent${l}`))],
      9,
    );
    y = ys as string;
    // h before each step: zero, then y without its last step
    const yPrev = b.one('Slice', [y, 'zero_i', 'minus1_i', 'zero_i']);
    const zeros3 = b.one('Unsqueeze', [zeros, 'axis0']);
    const hprev2d = rows(b.one('Concat', [zeros3, yPrev], [int('axis', 0)]), H);
    saved.push({
      cprev: cprev as string,
      tc: tc as string,
      i: i as string,
      f: f as string,
      g: g as string,
      o: o as string,
      hprev2d,
    });
    // the next layer (or the output) sees the dropped-out y; the recurrence keeps the true h
    x2d = rows(dropout ? b.one('Mul', [y, dropoutName(l)]) : y, H);
  }
  // output layer and loss
  const logits = b.one('Add', [b.one('MatMul', [x2d, 'outputKernel']), 'outputBias']);
  const targetsFlat = b.one('Reshape', ['targets', 'flat']);
  b.nodes.push({
    opType: 'SoftmaxCrossEntropyLoss',
    input: [logits, targetsFlat],
    output: ['loss'],
    name: 'loss',
    attribute: [
      {
        name: 'reduction',
        type: onnx.AttributeProto.AttributeType.STRING,
        s: new TextEncoder().encode('mean'),
      },
      int('ignore_index', -1),
    ],
  });
  // the real targets (padding is −1), as a [T·B, 1] mask and their count
  const valid = b.one('Cast', [b.one('Greater', [targetsFlat, 'minus1_i'])], [int('to', FLOAT)]);
  const count = b.one('ReduceSum', [valid], [int('keepdims', 0)]);
  b.nodes.push({ opType: 'Identity', input: [count], output: ['count'], name: 'count' });
  // d loss / d logits = (softmax − one-hot(target)) / count, on the real targets only
  const probs = b.one('Softmax', [logits], [int('axis', 1)]);
  const targetHot = b.one('Slice', [
    b.one('OneHot', [targetsFlat, 'depth', 'onehot_values'], [int('axis', -1)]),
    'zero_i',
    'V_i',
    'one_i',
  ]);
  const mask = b.one('Unsqueeze', [b.one('Div', [valid, count]), 'one_i']);
  const dLogits = b.one('Mul', [b.one('Sub', [probs, targetHot]), mask]);
  const grads: Record<string, string> = {};
  grads.outputKernel = b.one('MatMul', [b.one('Transpose', [x2d]), dLogits]);
  grads.outputBias = b.one('ReduceSum', [dLogits, 'axis0'], [int('keepdims', 0)]);
  let dY2d = b.one('MatMul', [dLogits, b.one('Transpose', ['outputKernel'])]);
  for (let l = spec.layers - 1; l >= 0; l--) {
    const s = saved[l] as (typeof saved)[number];
    const dYd = b.one('Reshape', [dY2d, tbWidth(H)]);
    const dY = dropout ? b.one('Mul', [dYd, dropoutName(l)]) : dYd;
    const zeros = b.one('Mul', [b.one('Slice', [dY, 'zero_i', 'one_i', 'zero_i']), addFloat0()]);
    const zeroState = b.one('Squeeze', [zeros, 'axis0']);
    const RT = b.one('Transpose', [`recurrent${l}`]);
    const [, , dz] = b.op(
      'Scan',
      [zeroState, zeroState, dY, s.cprev, s.tc, s.i, s.f, s.g, s.o],
      [
        int('num_scan_inputs', 7),
        ints('scan_input_directions', [1, 1, 1, 1, 1, 1, 1]),
        ints('scan_output_directions', [1]),
        graphAttr('body', backwardBody(RT)),
      ],
      3,
    );
    const dz2d = rows(dz as string, 4 * H);
    grads[`kernel${l}`] = b.one('MatMul', [b.one('Transpose', [layerIn[l] as string]), dz2d]);
    grads[`recurrent${l}`] = b.one('MatMul', [b.one('Transpose', [s.hprev2d]), dz2d]);
    grads[`bias${l}`] = b.one('ReduceSum', [dz2d, 'axis0'], [int('keepdims', 0)]);
    if (l > 0 || E > 0) dY2d = b.one('MatMul', [dz2d, b.one('Transpose', [`kernel${l}`])]);
  }
  if (E > 0) {
    // the embedding's share of the input gradient: its first E columns (the rest is the conditioning's)
    const dEmb = C > 0 ? b.one('Slice', [dY2d, 'zero_i', addConst(`c${E}`, [E]), 'one_i']) : dY2d;
    grads.embedding = b.one('MatMul', [b.one('Transpose', [oneHot]), dEmb]);
  }
  function addFloat0(): string {
    if (!initializer.some((t) => t.name === 'zero_f')) initializer.push(floats('zero_f', [], [0]));
    return 'zero_f';
  }
  const params = paramSpecs(spec);
  for (const p of params)
    b.nodes.push({
      opType: 'Identity',
      input: [grads[p.name] as string],
      output: [gradName(p.name)],
      name: `out_${p.name}`,
    });
  const outputs = [value('loss', FLOAT, []), value('count', FLOAT, [])];
  if (gradients) outputs.push(...params.map((p) => value(gradName(p.name), FLOAT, [...p.shape])));
  const model: onnxProto.onnx.IModelProto = {
    irVersion: 8,
    producerName: 'improv',
    producerVersion: '0.1.0',
    docString: 'LSTM language model: one training step (loss and gradients)',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: 'lstm_lm_train_step',
      node: b.nodes,
      initializer,
      input: [
        value('tokens', INT64, ['T', 'B']),
        value('targets', INT64, ['T', 'B']),
        ...(C > 0 ? [value(CONDITION_INPUT, FLOAT, ['T', 'B', C])] : []),
        ...(dropout
          ? Array.from({ length: spec.layers }, (_, l) => value(dropoutName(l), FLOAT, ['T', 'B', H]))
          : []),
        ...params.map((p) => value(p.name, FLOAT, [...p.shape])),
      ],
      output: outputs,
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
}

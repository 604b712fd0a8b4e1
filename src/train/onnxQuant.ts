/**
 * An int8 variant of the inference graph, for live play of large models. A 1024-unit char step is
 * bound by memory, not arithmetic: the fp32 LSTM reads its 16 MB recurrent kernel every step (p50
 * 0.56 ms here). This graph has the same inputs and outputs as onnxGraph.ts's, so the runtime loads
 * either, and reads a quarter of the bytes:
 *   - the first layer's input projection is folded into one table: (embedding or one-hot) · kernel +
 *     bias, a [V + 1, 4H] lookup (the start token's row is the bias alone);
 *   - each recurrent kernel, and the input kernels of deeper layers, are int8 with a scale per
 *     output column (symmetric, zero point 0), multiplied by onnxruntime's DynamicQuantizeMatMul
 *     (which quantizes the activations per call);
 *   - the recurrence is a Scan over the steps (the Keras gate order i, f, c, o, as trained); the
 *     output layer stays fp32 (83 columns: small).
 * Hand-written: onnxruntime's quantization tool is Python-only and quantizes the LSTM operator into a
 * contrib LSTM whose inputs and layout this graph does not need.
 */
import onnxProto from 'onnx-proto';
import type { LstmLmSpec, LstmLmWeights } from './model.ts';
import { addOutputs, encodeLm, floatTensor, int64Tensor, intAttr, ONNX_IO, valueInfo } from './onnxGraph.ts';

const { onnx } = onnxProto;

/** Symmetric per-column int8 of a [rows, cols] matrix: values and one scale per column. */
export function quantizeColumns(
  m: Float32Array,
  rows: number,
  cols: number,
): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++)
      scale[c] = Math.max(scale[c] as number, Math.abs(m[r * cols + c] as number));
  for (let c = 0; c < cols; c++) scale[c] = (scale[c] as number) / 127 || 1;
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++)
      q[r * cols + c] = Math.round((m[r * cols + c] as number) / (scale[c] as number));
  return { q, scale };
}

function int8Tensor(name: string, dims: number[], data: Int8Array): onnxProto.onnx.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.INT8, rawData: new Uint8Array(data.buffer) };
}

/** [V + 1, 4H]: each token's input row (embedding or one-hot) times the first kernel, plus the bias. */
function inputTable(spec: LstmLmSpec, w: LstmLmWeights): Float32Array {
  const V = spec.vocabSize;
  const G = 4 * spec.units;
  const E = spec.embedding > 0 ? spec.embedding : V;
  const layer = w.lstm[0] as LstmLmWeights['lstm'][number];
  const table = new Float32Array((V + 1) * G);
  for (let v = 0; v <= V; v++) {
    const row = table.subarray(v * G, (v + 1) * G);
    row.set(layer.bias);
    if (v === V) continue; // the start token: an all-zero input
    for (let e = 0; e < E; e++) {
      const x = w.embedding ? (w.embedding[v * E + e] as number) : e === v ? 1 : 0;
      if (x === 0) continue;
      for (let g = 0; g < G; g++) row[g] = (row[g] as number) + x * (layer.kernel[e * G + g] as number);
    }
  }
  return table;
}

function stepBody(l: number, H: number): onnxProto.onnx.IGraphProto {
  const n = (
    op: string,
    input: string[],
    output: string,
    attribute: onnxProto.onnx.IAttributeProto[] = [],
  ) => ({
    opType: op,
    input,
    output: [output],
    name: `${output}_node`,
    attribute,
  });
  const nodes: onnxProto.onnx.INodeProto[] = [
    { ...n('DynamicQuantizeMatMul', ['h', `Rq${l}`, `Rs${l}`, `Rz${l}`], 'hr'), domain: 'com.microsoft' },
    n('Add', ['xw_t', 'hr'], 'z'),
    {
      opType: 'Split',
      input: ['z'],
      output: ['zi', 'zf', 'zg', 'zo'],
      name: 'split',
      attribute: [intAttr('axis', 1)],
    },
    n('Sigmoid', ['zi'], 'i'),
    n('Sigmoid', ['zf'], 'f'),
    n('Tanh', ['zg'], 'g'),
    n('Sigmoid', ['zo'], 'o'),
    n('Mul', ['f', 'c'], 'fc'),
    n('Mul', ['i', 'g'], 'ig'),
    n('Add', ['fc', 'ig'], 'c_out'),
    n('Tanh', ['c_out'], 'tc'),
    n('Mul', ['o', 'tc'], 'h_out'),
    n('Identity', ['h_out'], 'y_t'),
  ];
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  return {
    name: `step${l}`,
    node: nodes,
    input: [
      valueInfo('h', FLOAT, ['batch', H]),
      valueInfo('c', FLOAT, ['batch', H]),
      valueInfo('xw_t', FLOAT, ['batch', 4 * H]),
    ],
    output: [
      valueInfo('h_out', FLOAT, ['batch', H]),
      valueInfo('c_out', FLOAT, ['batch', H]),
      valueInfo('y_t', FLOAT, ['batch', H]),
    ],
  };
}

/** Serialises the int8 variant (same inputs and outputs as buildOnnx's graph). */
export function buildQuantizedOnnx(spec: LstmLmSpec, w: LstmLmWeights, docString: string): Uint8Array {
  // the folded input table holds each token's gate inputs; a conditioned input row has no such table
  if ((spec.conditioning ?? 0) > 0)
    throw new RangeError(
      'the int8 variant is built for unconditioned models (--quantize without conditioning)',
    );
  const V = spec.vocabSize;
  const H = spec.units;
  const G = 4 * H;
  const initializer: onnxProto.onnx.ITensorProto[] = [
    floatTensor('table0', [V + 1, G], inputTable(spec, w)),
    int64Tensor('axis0', [0]),
  ];
  const node: onnxProto.onnx.INodeProto[] = [
    {
      opType: 'Gather',
      input: ['table0', ONNX_IO.inputs.tokens],
      output: ['xw0'],
      name: 'lookup',
      attribute: [intAttr('axis', 0)],
    },
  ];
  const hOut: string[] = [];
  const cOut: string[] = [];
  let y = '';
  w.lstm.forEach((layer, l) => {
    const r = quantizeColumns(layer.recurrent, H, G);
    initializer.push(
      int8Tensor(`Rq${l}`, [H, G], r.q),
      floatTensor(`Rs${l}`, [G], r.scale),
      int8Tensor(`Rz${l}`, [G], new Int8Array(G)),
      int64Tensor(`s${l}`, [l]),
      int64Tensor(`e${l}`, [l + 1]),
    );
    if (l > 0) {
      const k = quantizeColumns(layer.kernel, H, G);
      initializer.push(
        int8Tensor(`Kq${l}`, [H, G], k.q),
        floatTensor(`Ks${l}`, [G], k.scale),
        int8Tensor(`Kz${l}`, [G], new Int8Array(G)),
        floatTensor(`b${l}`, [G], layer.bias),
      );
      node.push({
        opType: 'DynamicQuantizeMatMul',
        domain: 'com.microsoft',
        input: [y, `Kq${l}`, `Ks${l}`, `Kz${l}`, `b${l}`],
        output: [`xw${l}`],
        name: `in${l}`,
      });
    }
    node.push(
      {
        opType: 'Slice',
        input: [ONNX_IO.inputs.h, `s${l}`, `e${l}`, 'axis0'],
        output: [`h3_${l}`],
        name: `hs${l}`,
      },
      {
        opType: 'Slice',
        input: [ONNX_IO.inputs.c, `s${l}`, `e${l}`, 'axis0'],
        output: [`c3_${l}`],
        name: `cs${l}`,
      },
      { opType: 'Squeeze', input: [`h3_${l}`, 'axis0'], output: [`h0_${l}`], name: `hq${l}` },
      { opType: 'Squeeze', input: [`c3_${l}`, 'axis0'], output: [`c0_${l}`], name: `cq${l}` },
      {
        opType: 'Scan',
        input: [`h0_${l}`, `c0_${l}`, `xw${l}`],
        output: [`hn2_${l}`, `cn2_${l}`, `y${l}`],
        name: `scan${l}`,
        attribute: [
          intAttr('num_scan_inputs', 1),
          { name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: stepBody(l, H) },
        ],
      },
      { opType: 'Unsqueeze', input: [`hn2_${l}`, 'axis0'], output: [`hn_${l}`], name: `hu${l}` },
      { opType: 'Unsqueeze', input: [`cn2_${l}`, 'axis0'], output: [`cn_${l}`], name: `cu${l}` },
    );
    hOut.push(`hn_${l}`);
    cOut.push(`cn_${l}`);
    y = `y${l}`;
  });
  addOutputs(node, initializer, y, hOut, cOut, spec, w);
  return encodeLm(
    spec,
    { name: 'lstm_lm_int8', node, initializer },
    docString,
    [
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ],
    8,
  );
}

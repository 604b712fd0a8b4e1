/**
 * A quantized variant of the inference graph, for live play of large models. A 1024-unit char step is
 * bound by memory, not arithmetic: the fp32 LSTM reads its 16 MB recurrent kernel every step (p50
 * 1.2–1.6 ms on this box). This graph has the same inputs and outputs as onnxGraph.ts's, so the
 * runtime loads either, and reads an eighth of the bytes:
 *   - the first layer's input projection is folded into one table: (embedding or one-hot) · kernel +
 *     bias, a [V + 1, 4H] lookup (the start token's row is the bias alone);
 *   - each recurrent kernel, and the input kernels of deeper layers, are 4-bit in blocks of
 *     QUANT_BLOCK inputs with a scale per block (symmetric), multiplied by onnxruntime's MatMulNBits
 *     at its int8 accuracy level (the activations quantized per block, per call);
 *   - the recurrence is a Scan over the steps (the Keras gate order i, f, c, o, as trained); the
 *     output layer stays fp32 (83 columns: small).
 * Why 4-bit blocks, not int8 columns (what this graph was until now): measured on the shipped 1024-unit
 * char model, same minutes, one thread, steps interleaved, the int8 graph (DynamicQuantizeMatMul) p50
 * 509–520 µs, p99 729 µs; 8-bit blocks (MatMulNBits) 474–478 / 659–663 µs; 4-bit blocks 346–362 /
 * 485–607 µs, at 1.4007 bits/char on 30 tunes against fp32's 1.4069 and int8's 1.4084 (a 4-bit block
 * of 32 keeps more of a row's shape than one int8 scale for all 1,024 rows of a column).
 * Hand-written: onnxruntime's quantization tools are Python-only (and quantize the LSTM operator into a
 * contrib LSTM whose inputs and layout this graph does not need).
 */
import onnxProto from 'onnx-proto';
import type { LstmLmSpec, LstmLmWeights } from './model.ts';
import { addOutputs, encodeLm, floatTensor, int64Tensor, intAttr, ONNX_IO, valueInfo } from './onnxGraph.ts';

const { onnx } = onnxProto;

/** Bits per weight of the quantized kernels, and the inputs that share one scale. */
export const QUANT_BITS = 4;
export const QUANT_BLOCK = 32;

/**
 * Symmetric 4-bit blocks of a [rows, cols] kernel (rows are the inputs), laid out as MatMulNBits
 * reads B: per output column, ceil(rows / block) blocks of block / 2 bytes, two values a byte (the
 * first in the low nibble), each stored as q + 8 for q in −7…7; one scale per block (column-major).
 * A last block past `rows` is padded with zeros.
 */
export function quantizeBlocks(
  m: Float32Array,
  rows: number,
  cols: number,
  block = QUANT_BLOCK,
): { packed: Uint8Array; scales: Float32Array; blocks: number } {
  const blocks = Math.ceil(rows / block);
  const bytes = block / 2;
  const packed = new Uint8Array(cols * blocks * bytes).fill(0x88);
  const scales = new Float32Array(cols * blocks);
  for (let c = 0; c < cols; c++)
    for (let b = 0; b < blocks; b++) {
      const from = b * block;
      const to = Math.min(rows, from + block);
      let max = 0;
      for (let r = from; r < to; r++) max = Math.max(max, Math.abs(m[r * cols + c] as number));
      const scale = max / 7 || 1;
      scales[c * blocks + b] = scale;
      const at = (c * blocks + b) * bytes;
      for (let r = from; r < to; r++) {
        const q = Math.max(-7, Math.min(7, Math.round((m[r * cols + c] as number) / scale))) + 8;
        const j = r - from;
        const i = at + (j >> 1);
        packed[i] = j & 1 ? ((packed[i] as number) & 0x0f) | (q << 4) : ((packed[i] as number) & 0xf0) | q;
      }
    }
  return { packed, scales, blocks };
}

/** The initializers of a quantized kernel and the MatMulNBits node that multiplies `input` by it. */
function quantizedMatMul(
  name: string,
  input: string,
  output: string,
  kernel: Float32Array,
  rows: number,
  cols: number,
): { initializer: onnxProto.onnx.ITensorProto[]; node: onnxProto.onnx.INodeProto } {
  const q = quantizeBlocks(kernel, rows, cols);
  return {
    initializer: [
      {
        name: `${name}_q`,
        dims: [cols, q.blocks, QUANT_BLOCK / 2],
        dataType: onnx.TensorProto.DataType.UINT8,
        rawData: q.packed,
      },
      floatTensor(`${name}_s`, [cols * q.blocks], q.scales),
    ],
    node: {
      opType: 'MatMulNBits',
      domain: 'com.microsoft',
      input: [input, `${name}_q`, `${name}_s`],
      output: [output],
      name: `${output}_node`,
      attribute: [
        intAttr('K', rows),
        intAttr('N', cols),
        intAttr('bits', QUANT_BITS),
        intAttr('block_size', QUANT_BLOCK),
        // 4: the activations are quantized to int8 too, so the product runs on integer units
        intAttr('accuracy_level', 4),
      ],
    },
  };
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

function stepBody(l: number, H: number, recurrent: onnxProto.onnx.INodeProto): onnxProto.onnx.IGraphProto {
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
    recurrent,
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

/** Serialises the quantized variant (same inputs and outputs as buildOnnx's graph). */
export function buildQuantizedOnnx(spec: LstmLmSpec, w: LstmLmWeights, docString: string): Uint8Array {
  // the folded input table holds each token's gate inputs; a conditioned input row has no such table
  if ((spec.conditioning ?? 0) > 0)
    throw new RangeError(
      'the quantized variant is built for unconditioned models (--quantize without conditioning)',
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
    // the recurrent kernel's weights are the outer graph's (the Scan body reads them from there)
    const r = quantizedMatMul(`R${l}`, 'h', 'hr', layer.recurrent, H, G);
    initializer.push(...r.initializer, int64Tensor(`s${l}`, [l]), int64Tensor(`e${l}`, [l + 1]));
    if (l > 0) {
      const k = quantizedMatMul(`K${l}`, y, `xk${l}`, layer.kernel, H, G);
      initializer.push(...k.initializer, floatTensor(`b${l}`, [G], layer.bias));
      node.push(k.node, { opType: 'Add', input: [`xk${l}`, `b${l}`], output: [`xw${l}`], name: `in${l}` });
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
          { name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: stepBody(l, H, r.node) },
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
    { name: 'lstm_lm_int4', node, initializer },
    docString,
    [
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ],
    8,
  );
}

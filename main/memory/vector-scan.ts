/**
 * Dot products of one query vector against every row of a matrix of float32 vectors, for the brute-force vector
 * index (main/memory/embeddings.ts). The rows live in a WebAssembly memory and a 128-bit SIMD loop (four f32x4
 * running sums) does the work: at 100,000 vectors of 384 dimensions it scans about eight times faster than the
 * plain JS loop, which stays as the fallback for a length that is not a multiple of 16 or a runtime without
 * WebAssembly SIMD. The module is assembled below from its opcodes, so nothing is loaded from disk.
 */

/** The part of the WebAssembly API used here (Node has it; the project's TypeScript libs carry no types for it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object) => { readonly exports: Record<string, unknown> };
};

/** Rows stored, `dims` long each; `scores(query)` is their dot products with `query`, in row order. */
export interface VectorRows {
  /** Which loop scans: 'wasm-simd', or 'js' when the length is not a multiple of 16 or SIMD is missing. */
  readonly kind: 'wasm-simd' | 'js';
  readonly rows: number;
  readonly dims: number;
  /** A view that is overwritten by the next call. */
  scores(query: Float32Array): Float32Array;
  /** Adds rows (a multiple of `dims` long) after the last. */
  append(matrix: Float32Array): void;
}

/** The rows of `matrix` (rows × dims, row after row), copied into a scanner. */
export function vectorRows(matrix: Float32Array, dims: number): VectorRows {
  if (!Number.isSafeInteger(dims) || dims < 1) throw new RangeError(`vectors must have at least one dimension, not ${dims}.`);
  checkShape(matrix, dims);
  if (dims % 16 === 0) {
    const simd = SimdRows.create(matrix, dims);
    if (simd) return simd;
  }
  return new JsRows(matrix, dims);
}

class JsRows implements VectorRows {
  readonly kind = 'js';
  rows: number;
  #out: Float32Array;

  constructor(
    private matrix: Float32Array,
    readonly dims: number,
  ) {
    this.rows = matrix.length / dims;
    this.#out = new Float32Array(this.rows);
  }

  append(matrix: Float32Array): void {
    checkShape(matrix, this.dims);
    const grown = new Float32Array(this.matrix.length + matrix.length);
    grown.set(this.matrix);
    grown.set(matrix, this.matrix.length);
    this.matrix = grown;
    this.rows = grown.length / this.dims;
    this.#out = new Float32Array(this.rows);
  }

  scores(query: Float32Array): Float32Array {
    const { matrix, dims } = this;
    for (let row = 0, offset = 0; row < this.rows; row++, offset += dims) {
      // Four running sums: independent additions the CPU can overlap (about twice as fast as one sum).
      let a = 0;
      let b = 0;
      let c = 0;
      let d = 0;
      let index = 0;
      for (; index + 3 < dims; index += 4) {
        a += matrix[offset + index]! * query[index]!;
        b += matrix[offset + index + 1]! * query[index + 1]!;
        c += matrix[offset + index + 2]! * query[index + 2]!;
        d += matrix[offset + index + 3]! * query[index + 3]!;
      }
      for (; index < dims; index++) a += matrix[offset + index]! * query[index]!;
      this.#out[row] = a + b + c + d;
    }
    return this.#out;
  }
}

const PAGE = 65_536;

type Scan = (matrix: number, query: number, out: number, rows: number, rowBytes: number) => void;

/** Memory layout: the query (dims floats), the rows from MATRIX on, then the scores (one float a row). */
class SimdRows implements VectorRows {
  readonly kind = 'wasm-simd';
  rows = 0;
  #query!: Float32Array;
  #out!: Float32Array;

  private constructor(
    readonly dims: number,
    private readonly scan: Scan,
    private readonly memory: WasmMemory,
  ) {}

  static create(matrix: Float32Array, dims: number): SimdRows | undefined {
    try {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(kernel()));
      const rows = new SimdRows(dims, instance.exports['scores'] as Scan, instance.exports['memory'] as WasmMemory);
      rows.append(matrix);
      return rows;
    } catch {
      // No WebAssembly SIMD here, or the rows do not fit a 4 GiB memory: the JS loop does the work.
      return undefined;
    }
  }

  get #matrixAt(): number {
    return align(this.dims * 4);
  }

  get #outAt(): number {
    return align(this.#matrixAt + this.rows * this.dims * 4);
  }

  append(matrix: Float32Array): void {
    checkShape(matrix, this.dims);
    const end = this.#matrixAt + this.rows * this.dims * 4;
    const rows = this.rows + matrix.length / this.dims;
    const needed = align(end + matrix.length * 4) + rows * 4;
    if (needed > this.memory.buffer.byteLength) this.memory.grow(Math.ceil((needed - this.memory.buffer.byteLength) / PAGE));
    new Float32Array(this.memory.buffer, end, matrix.length).set(matrix);
    this.rows = rows;
    // Growing detaches the old buffer: views are made anew.
    this.#query = new Float32Array(this.memory.buffer, 0, this.dims);
    this.#out = new Float32Array(this.memory.buffer, this.#outAt, rows);
  }

  scores(query: Float32Array): Float32Array {
    this.#query.set(query);
    this.scan(this.#matrixAt, 0, this.#outAt, this.rows, this.dims * 4);
    return this.#out;
  }
}

function checkShape(matrix: Float32Array, dims: number): void {
  if (matrix.length % dims !== 0) throw new RangeError(`a ${matrix.length}-long matrix has no rows of ${dims}.`);
}

function align(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

/**
 * The WebAssembly module: one exported memory and `scores(matrix, query, out, rows, rowBytes)`, which for each of
 * `rows` rows of `rowBytes` bytes (a multiple of 64) at `matrix` stores the row's dot product with the vector at
 * `query` as an f32 at `out`, one after the other.
 */
function kernel(): Uint8Array {
  const [M, Q, OUT, ROWS, BYTES, I, A, B, C, D] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const get = (local: number) => [0x20, local];
  const set = (local: number) => [0x21, local];
  const tee = (local: number) => [0x22, local];
  const i32 = (value: number) => [0x41, ...sleb(value)];
  const simd = (opcode: number, ...immediates: number[]) => [0xfd, ...uleb(opcode), ...immediates];
  const load = (base: number, offset: number) => [...get(base), ...get(I), 0x6a, ...simd(0x00, 4, ...uleb(offset))];
  const F32X4_ADD = 0xe4;
  const F32X4_MUL = 0xe6;
  const F32X4_EXTRACT_LANE = 0x1f;
  // sum += matrix[i + offset .. +16) * query[i + offset .. +16)
  const step = (sum: number, offset: number) => [...get(sum), ...load(M, offset), ...load(Q, offset), ...simd(F32X4_MUL), ...simd(F32X4_ADD), ...set(sum)];
  const lane = (index: number) => [...get(A), ...simd(F32X4_EXTRACT_LANE, index)];
  const body = [
    0x02, 0x40, // block
    ...get(ROWS), 0x45, 0x0d, 0, // if rows == 0: leave
    0x03, 0x40, // loop over rows
    ...simd(0x0c, ...new Array<number>(16).fill(0)), ...tee(A), ...tee(B), ...tee(C), ...set(D),
    ...i32(0), ...set(I),
    0x03, 0x40, // loop over the row, 64 bytes a turn
    ...step(A, 0), ...step(B, 16), ...step(C, 32), ...step(D, 48),
    ...get(I), ...i32(64), 0x6a, ...tee(I), ...get(BYTES), 0x49, 0x0d, 0, // i += 64; again while i < rowBytes
    0x0b,
    ...get(OUT),
    ...get(A), ...get(B), ...simd(F32X4_ADD), ...get(C), ...get(D), ...simd(F32X4_ADD), ...simd(F32X4_ADD), ...set(A),
    ...lane(0), ...lane(1), 0x92, ...lane(2), ...lane(3), 0x92, 0x92, // f32.add
    0x38, 2, 0, // f32.store
    ...get(OUT), ...i32(4), 0x6a, ...set(OUT),
    ...get(M), ...get(BYTES), 0x6a, ...set(M),
    ...get(ROWS), ...i32(1), 0x6b, ...tee(ROWS), 0x0d, 0, // rows -= 1; again while rows != 0
    0x0b,
    0x0b,
    0x0b, // end of function
  ];
  const locals = [2, 1, 0x7f, 4, 0x7b]; // one i32 (i), four v128 (the sums)
  const code = [...locals, ...body];
  const name = (text: string) => [text.length, ...Buffer.from(text, 'latin1')];
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 5, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]), // type: (i32 × 5) -> ()
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(5, [1, 0, 0]), // one memory, no pages yet
    ...section(7, [2, ...name('memory'), 0x02, 0, ...name('scores'), 0x00, 0]),
    ...section(10, [1, ...uleb(code.length), ...code]),
  ]);
}

function uleb(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

function sleb(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) return [...bytes, byte];
    bytes.push(byte | 0x80);
  }
}

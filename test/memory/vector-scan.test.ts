import { describe, expect, it } from 'vitest';
import { vectorRows } from '../../main/memory/vector-scan.js';

/** Deterministic values in [-0.5, 0.5). */
function matrix(length: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length }, () => {
    state = (state * 16807) % 2147483647;
    return state / 2147483647 - 0.5;
  });
}

function dots(rows: Float32Array, dims: number, query: Float32Array): number[] {
  return Array.from({ length: rows.length / dims }, (_, row) => {
    let sum = 0;
    for (let index = 0; index < dims; index++) sum += rows[row * dims + index]! * query[index]!;
    return sum;
  });
}

describe('vector scan', () => {
  // 384 and 64 take the WebAssembly SIMD loop (a multiple of 16), 10 the JS loop.
  it.each([384, 64, 10])('scores %i-dimensional rows by their dot product with the query, in row order', (dims) => {
    const rows = matrix(dims * 37, 3);
    const query = matrix(dims, 11);
    const scanner = vectorRows(rows, dims);
    expect(scanner.kind).toBe(dims % 16 === 0 ? 'wasm-simd' : 'js');
    expect(scanner.rows).toBe(37);
    const got = Array.from(scanner.scores(query));
    dots(rows, dims, query).forEach((expected, row) => expect(got[row]).toBeCloseTo(expected, 4));
  });

  it.each([384, 10])('keeps scoring every row after rows are appended to %i-dimensional ones, from none at all', (dims) => {
    const scanner = vectorRows(new Float32Array(0), dims);
    expect(scanner.scores(matrix(dims, 5))).toHaveLength(0);
    const first = matrix(dims * 5, 7);
    // Enough rows to make the WebAssembly memory grow past its first page.
    const second = matrix(dims * 300, 9);
    scanner.append(first);
    scanner.append(second);
    const all = new Float32Array(first.length + second.length);
    all.set(first);
    all.set(second, first.length);
    const query = matrix(dims, 13);
    const got = Array.from(scanner.scores(query));
    expect(got).toHaveLength(305);
    dots(all, dims, query).forEach((expected, row) => expect(got[row]).toBeCloseTo(expected, 4));
  });

  it('refuses rows that are not a whole number of vectors', () => {
    expect(() => vectorRows(new Float32Array(10), 4)).toThrow('a 10-long matrix has no rows of 4.');
    expect(() => vectorRows(new Float32Array(16), 16).append(new Float32Array(20))).toThrow('a 20-long matrix has no rows of 16.');
  });
});

/** The approval hash: canonical JSON and a pure SHA-256 that agrees with node:crypto. */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, inputHash, sha256Hex } from '../../contract/hash.js';

describe('sha256Hex', () => {
  it.each([0, 1, 55, 56, 63, 64, 65, 1000, 100_000])('agrees with node:crypto on %i random bytes', (n) => {
    const data = randomBytes(n);
    expect(sha256Hex(new Uint8Array(data))).toBe(createHash('sha256').update(data).digest('hex'));
  });
  it('the FIPS 180-4 example', () => {
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('inputHash', () => {
  it('ignores key order and whitespace, not values', () => {
    expect(canonicalJson({ b: 1, a: [{ y: 2, x: 'é' }] })).toBe('{"a":[{"x":"é","y":2}],"b":1}');
    expect(inputHash({ b: 1, a: 2 })).toBe(inputHash({ a: 2, b: 1 }));
    expect(inputHash({ a: 2, b: 1 })).not.toBe(inputHash({ a: 2, b: 2 }));
    expect(inputHash({ summary: 'x' })).toBe(`sha256:${createHash('sha256').update('{"summary":"x"}').digest('hex')}`);
  });
});

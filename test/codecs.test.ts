/**
 * Payload codecs and the codec server: round trips through Temporal's own data converter, the
 * environment settings, real HTTP calls shaped like the Web UI's, and one real dev-server history.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, str, u8, type Payload, type PayloadCodec } from '@temporalio/common';
import { decodeFromPayloadsAtIndex, encodeToPayloads, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/index.js';
import proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCodecServer, type CodecServer } from '../connection/codec-server.js';
import { text } from '../devtools/fake-api/replies.js';
import { ensureTemporalCli } from '../scripts/temporal-cli.js';
import { BIN } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';
import {
  codecSettingsFromEnv,
  dataConverter,
  DEFAULT_COMPRESSION,
  EncryptionCodec,
  GzipCodec,
  payloadCodecs,
  PayloadTooLargeError,
} from '../connection/codecs.js';

const key = (n: number) => Buffer.alloc(32, n);
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const encryption = (keys: Record<string, Buffer> = { k1: key(1) }, encryptWith = 'k1') => new EncryptionCodec({ keys, encryptWith });
const encoding = (p: Payload | undefined) => (p?.metadata?.encoding ? str(p.metadata.encoding) : undefined);

/** Temporal's order: encode in array order, decode in reverse. */
async function encodeAll(codecs: PayloadCodec[], payloads: Payload[]): Promise<Payload[]> {
  for (const c of codecs) payloads = await c.encode(payloads);
  return payloads;
}
async function decodeAll(codecs: PayloadCodec[], payloads: Payload[]): Promise<Payload[]> {
  for (const c of [...codecs].reverse()) payloads = await c.decode(payloads);
  return payloads;
}
async function encodeOne(codecs: PayloadCodec[], value: unknown): Promise<Payload> {
  const [p] = await encodeAll(codecs, [defaultPayloadConverter.toPayload(value)]);
  return p!;
}

const values: [string, unknown][] = [
  ['a string', 'hello'],
  ['an object', { order_id: '48810', items: [1, 2, { ok: true }], nothing: null }],
  ['unicode', 'héllo wörld — 你好 🌍 \u0000'],
  ['a 1 MB repetitive string', 'x'.repeat(1 << 20)],
  ['a 1 MB random string', randomBytes(786_432).toString('base64')],
];

describe.each([
  ['encryption', () => [encryption()]],
  ['gzip', () => [new GzipCodec()]],
  ['gzip then encryption', () => [new GzipCodec(), encryption()]],
])('%s', (_name, make: () => PayloadCodec[]) => {
  it.each(values)('round-trips %s, codecs applied in Temporal order', async (_what, value) => {
    const codecs = make();
    const [back] = await decodeAll(codecs, [await encodeOne(codecs, value)]);
    expect(defaultPayloadConverter.fromPayload(back!)).toEqual(value);
  });

  it('round-trips every value through the SDK data converter', async () => {
    const converter = loadDataConverter({ payloadCodecs: make() });
    const payloads = await encodeToPayloads(converter, ...values.map(([, v]) => v));
    for (const [i, [, value]] of values.entries()) {
      expect(await decodeFromPayloadsAtIndex(converter, i, payloads)).toEqual(value);
    }
  });
});

describe('GzipCodec', () => {
  it('shrinks a repetitive 100 KB JSON more than 5x', async () => {
    const rows = Array.from({ length: 1600 }, (_, i) => ({ id: i, status: 'shipped', note: 'left the warehouse on time' }));
    const plain = defaultPayloadConverter.toPayload(rows);
    expect(plain.data!.length).toBeGreaterThan(100_000);
    const [zipped] = await new GzipCodec().encode([plain]);
    expect(encoding(zipped)).toBe('binary/gzip');
    expect(zipped!.data!.length * 5).toBeLessThan(plain.data!.length);
  });

  it('leaves payloads below minBytes alone, and passes non-gzip payloads through decode', async () => {
    const small = defaultPayloadConverter.toPayload('hi');
    expect(await new GzipCodec().encode([small])).toEqual([small]);
    const medium = defaultPayloadConverter.toPayload('y'.repeat(500));
    expect(encoding((await new GzipCodec({ minBytes: 1000 }).encode([medium]))[0])).toBe('json/plain');
    expect(encoding((await new GzipCodec().encode([medium]))[0])).toBe('json/plain'); // default minBytes: 1 KiB
    const large = defaultPayloadConverter.toPayload('y'.repeat(2000));
    expect(encoding((await new GzipCodec().encode([large]))[0])).toBe('binary/gzip');
    expect(await new GzipCodec().decode([small])).toEqual([small]);
  });
});

describe('GzipCodec limits', () => {
  it('stops inflating at maxDecodedBytes with PayloadTooLargeError; limitedTo() only lowers the limit', async () => {
    const [zipped] = await new GzipCodec().encode([defaultPayloadConverter.toPayload('q'.repeat(100_000))]);
    const err = await new GzipCodec({ maxDecodedBytes: 50_000 }).decode([zipped!]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect((err as PayloadTooLargeError).message).toBe('binary/gzip payload decodes to more than 50000 bytes');
    await expect(new GzipCodec().limitedTo(50_000).decode([zipped!])).rejects.toThrow(PayloadTooLargeError);
    await expect(new GzipCodec({ maxDecodedBytes: 50_000 }).limitedTo(1e9).decode([zipped!])).rejects.toThrow('more than 50000 bytes');
    const [back] = await new GzipCodec().limitedTo(200_000).decode([zipped!]);
    expect(defaultPayloadConverter.fromPayload(back!)).toBe('q'.repeat(100_000));
  });
});

describe('EncryptionCodec', () => {
  it('hides the plaintext and its encoding, names the key, uses iv ‖ ciphertext ‖ tag', async () => {
    const plain = defaultPayloadConverter.toPayload({ secret: 'top-secret-marker' });
    const [sealed] = await encryption().encode([plain]);
    expect(Object.keys(sealed!.metadata!).sort()).toEqual(['encoding', 'encryption-key-id']);
    expect(encoding(sealed)).toBe('binary/encrypted');
    expect(str(sealed!.metadata!['encryption-key-id']!)).toBe('k1');
    const data = Buffer.from(sealed!.data!);
    expect(data.includes('top-secret-marker')).toBe(false);
    expect(data.includes('json/plain')).toBe(false);
    // GCM ciphertext is as long as its plaintext: the whole serialized Payload, metadata included.
    expect(data.length).toBe(12 + proto.temporal.api.common.v1.Payload.encode(plain).finish().length + 16);
  });

  it('uses a fresh IV: the same value encrypts differently each time', async () => {
    const codec = encryption();
    const p = defaultPayloadConverter.toPayload('same');
    const [a, b] = await codec.encode([p, p]);
    expect(b64(a!.data!)).not.toBe(b64(b!.data!));
    expect(b64(a!.data!.subarray(0, 12))).not.toBe(b64(b!.data!.subarray(0, 12)));
  });

  it('refuses a tampered payload with a clear error', async () => {
    const codec = encryption();
    const [sealed] = await codec.encode([defaultPayloadConverter.toPayload('do not touch')]);
    for (const at of [0, 20, sealed!.data!.length - 1]) {
      const data = Buffer.from(sealed!.data!);
      data[at] = data[at]! ^ 1;
      await expect(codec.decode([{ ...sealed, data }])).rejects.toThrow(
        'cannot decrypt payload with key id "k1": authentication failed (the payload was altered, or this is not the key it was encrypted with)',
      );
    }
    await expect(codec.decode([{ ...sealed, data: new Uint8Array(5) }])).rejects.toThrow('too short');
  });

  it('names an unknown key id and the variable to set, without key material', async () => {
    const [sealed] = await encryption({ '2024-01': key(1) }, '2024-01').encode([defaultPayloadConverter.toPayload('x')]);
    const err = await encryption({ '2025-06': key(2) }, '2025-06')
      .decode([sealed!])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/key id "2024-01" is not configured.*AGENT_RUNNER_ENCRYPTION_OLD_KEYS/);
    expect((err as Error).message).not.toContain(b64(key(1)));
    expect((err as Error).message).not.toContain(b64(key(2)));
  });

  it('passes unencrypted payloads through decode and checks keys at construction', async () => {
    const plain = defaultPayloadConverter.toPayload({ a: 1 });
    expect(await encryption().decode([plain])).toEqual([plain]);
    expect(() => new EncryptionCodec({ keys: { k: Buffer.alloc(16) }, encryptWith: 'k' })).toThrow('has 16 bytes, AES-256 needs 32');
    expect(() => new EncryptionCodec({ keys: { k: key(1) }, encryptWith: 'other' })).toThrow('"other" is not among the keys');
  });

  it('rotates keys: old data decodes via AGENT_RUNNER_ENCRYPTION_OLD_KEYS, new data uses the new key', async () => {
    const before = dataConverter(codecSettingsFromEnv({ AGENT_RUNNER_ENCRYPTION_KEY: b64(key(1)), AGENT_RUNNER_ENCRYPTION_KEY_ID: 'v1' }));
    const [old] = await encodeAll(before.payloadCodecs!, [defaultPayloadConverter.toPayload('written last year')]);

    const env = { AGENT_RUNNER_ENCRYPTION_KEY: b64(key(2)), AGENT_RUNNER_ENCRYPTION_KEY_ID: 'v2' };
    const after = payloadCodecs(codecSettingsFromEnv({ ...env, AGENT_RUNNER_ENCRYPTION_OLD_KEYS: `v0:${b64(key(9))}, v1:${b64(key(1))}` }));
    const [back] = await decodeAll(after, [old!]);
    expect(defaultPayloadConverter.fromPayload(back!)).toBe('written last year');
    const [fresh] = await encodeAll(after, [defaultPayloadConverter.toPayload('new')]);
    expect(str(fresh!.metadata!['encryption-key-id']!)).toBe('v2');

    await expect(decodeAll(payloadCodecs(codecSettingsFromEnv(env)), [old!])).rejects.toThrow('key id "v1" is not configured');
  });
});

describe('codecSettingsFromEnv', () => {
  const oneLineWithoutKey = (fn: () => unknown, secret: string, expected: RegExp) => {
    let message = '';
    try {
      fn();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(expected);
    expect(message).not.toContain('\n');
    expect(message).not.toContain(secret);
  };

  it('defaults: compression on (DEFAULT_COMPRESSION), no encryption, key id "default"', () => {
    expect(DEFAULT_COMPRESSION).toBe(true);
    expect(codecSettingsFromEnv({})).toEqual({ compress: true });
    expect(payloadCodecs(codecSettingsFromEnv({})).map((c) => c.constructor.name)).toEqual(['GzipCodec', 'NoKeyCodec']);
    const s = codecSettingsFromEnv({ AGENT_RUNNER_COMPRESSION: 'on', AGENT_RUNNER_ENCRYPTION_KEY: b64(key(3)) });
    expect(s).toEqual({ compress: true, encryption: { keys: { default: key(3) }, encryptWith: 'default' } });
    const codecs = payloadCodecs(s);
    expect(codecs.map((c) => c.constructor.name)).toEqual(['GzipCodec', 'EncryptionCodec']);
    expect(codecSettingsFromEnv({ AGENT_RUNNER_COMPRESSION: 'off' }).compress).toBe(false);
  });

  it('compression off writes plain payloads but still reads binary/gzip', async () => {
    const off = payloadCodecs(codecSettingsFromEnv({ AGENT_RUNNER_COMPRESSION: 'off' }));
    const big = 'w'.repeat(10_000);
    expect(encoding(await encodeOne(off, big))).toBe('json/plain');
    const zipped = await encodeOne(payloadCodecs(codecSettingsFromEnv({})), big);
    expect(encoding(zipped)).toBe('binary/gzip');
    const [back] = await decodeAll(off, [zipped]);
    expect(defaultPayloadConverter.fromPayload(back!)).toBe(big);
  });

  it('compresses before encrypting in the composed data converter', async () => {
    const { payloadCodecs: codecs } = dataConverter({ compress: true, encryption: { keys: { k: key(4) }, encryptWith: 'k' } });
    const outer = await encodeOne(codecs!, 'z'.repeat(10_000));
    expect(encoding(outer)).toBe('binary/encrypted');
    expect(outer.data!.length).toBeLessThan(1000); // compressed first, or it would be ~10 KB
    expect(encoding((await codecs![1]!.decode([outer]))[0])).toBe('binary/gzip');
  });

  it('rejects bad keys in one line that does not repeat the key', () => {
    const short = b64(randomBytes(16));
    oneLineWithoutKey(
      () => codecSettingsFromEnv({ AGENT_RUNNER_ENCRYPTION_KEY: short }),
      short,
      /^AGENT_RUNNER_ENCRYPTION_KEY must be base64 of exactly 32 bytes, got 16; make one with: openssl rand -base64 32$/,
    );
    const garbage = 'this is not base64 at all!!';
    oneLineWithoutKey(
      () => codecSettingsFromEnv({ AGENT_RUNNER_ENCRYPTION_KEY: garbage }),
      garbage,
      /^AGENT_RUNNER_ENCRYPTION_KEY is not valid base64; make one with: openssl rand -base64 32$/,
    );
    const good = b64(key(5));
    const oldBad = b64(randomBytes(31));
    oneLineWithoutKey(
      () => codecSettingsFromEnv({ AGENT_RUNNER_ENCRYPTION_KEY: good, AGENT_RUNNER_ENCRYPTION_OLD_KEYS: `old:${oldBad}` }),
      oldBad,
      /^AGENT_RUNNER_ENCRYPTION_OLD_KEYS key "old" must be base64 of exactly 32 bytes, got 31/,
    );
    oneLineWithoutKey(
      () => codecSettingsFromEnv({ AGENT_RUNNER_ENCRYPTION_KEY: good, AGENT_RUNNER_ENCRYPTION_OLD_KEYS: good }),
      good,
      /entries must look like id:base64key/,
    );
    oneLineWithoutKey(
      () => codecSettingsFromEnv({ AGENT_RUNNER_ENCRYPTION_OLD_KEYS: `a:${good}` }),
      good,
      /OLD_KEYS is set but AGENT_RUNNER_ENCRYPTION_KEY is not/,
    );
    oneLineWithoutKey(
      () => codecSettingsFromEnv({ AGENT_RUNNER_COMPRESSION: 'yes' }),
      good,
      /AGENT_RUNNER_COMPRESSION must be "on" or "off"/,
    );
    oneLineWithoutKey(
      () => codecSettingsFromEnv({ AGENT_RUNNER_ENCRYPTION_KEY: good, AGENT_RUNNER_ENCRYPTION_KEY_ID: 'a:b' }),
      good,
      /KEY_ID must be a non-empty key id/,
    );
  });
});

type JsonPayload = { metadata: Record<string, string>; data: string };
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
  data: b64(p.data ?? new Uint8Array(0)),
});
const fromJson = (j: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(j.metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
  data: new Uint8Array(Buffer.from(j.data, 'base64')),
});
const UI = 'http://localhost:8233';
const JSON_TYPE = { 'content-type': 'application/json' };

async function expectOneLineError(res: Response, status: number, message: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(((await res.json()) as { error: string }).error).toBe(message);
}

/** A request with any Host header (fetch will not send one of its own choosing). */
function withHost(url: string, host: string, method: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = httpRequest(
      { hostname, port, method, path: '/decode', headers: { host, 'content-type': 'application/json', origin: UI }, setHost: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(method === 'POST' ? body : undefined);
  });
}

describe('codec server', () => {
  const codecs = [new GzipCodec(), encryption()];
  let server: CodecServer;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  beforeAll(async () => {
    server = await startCodecServer({ codecs, port: 0 });
  });
  afterAll(() => server.close());

  it('decodes what the codecs encoded, in proto3 JSON (base64) form', async () => {
    const sent = await Promise.all(values.slice(0, 3).map(([, v]) => encodeOne(codecs, v)));
    const res = await post('/decode', { payloads: sent.map(toJson) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as { payloads: JsonPayload[] };
    expect(body.payloads[0]).toEqual({ metadata: { encoding: b64(u8('json/plain')) }, data: b64(u8('"hello"')) });
    expect(body.payloads.map((j) => defaultPayloadConverter.fromPayload(fromJson(j)))).toEqual(values.slice(0, 3).map(([, v]) => v));
  });

  it('round-trips encode then decode over HTTP, with ?preserveStorageRefs=true as the UI sends', async () => {
    const plain = [defaultPayloadConverter.toPayload({ big: 'b'.repeat(5000) }), defaultPayloadConverter.toPayload(7)];
    const encoded = (await (await post('/encode?preserveStorageRefs=true', { payloads: plain.map(toJson) })).json()) as {
      payloads: JsonPayload[];
    };
    expect(encoded.payloads.map((j) => j.metadata.encoding)).toEqual([b64(u8('binary/encrypted')), b64(u8('binary/encrypted'))]);
    const res = await post('/decode?preserveStorageRefs=true', encoded);
    expect(res.status).toBe(200);
    const decoded = (await res.json()) as { payloads: JsonPayload[] };
    expect(decoded.payloads).toEqual(plain.map(toJson));
  });

  it('answers the preflight for an allowed origin, without auth', async () => {
    const res = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { origin: UI, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI);
    expect(res.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type, x-namespace, authorization, authorization-extras');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(res.headers.get('vary')).toBe('origin');
  });

  it('allows the UI origin on POST and leaves a foreign origin to the browser', async () => {
    const payloads = [toJson(await encodeOne(codecs, 'cors'))];
    const ok = await post('/decode', { payloads }, { origin: 'http://127.0.0.1:8233' });
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    const foreign = await post('/decode', { payloads }, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(200);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers bad input with one-line JSON errors and keeps serving', async () => {
    const expectError = async (res: Response, status: number, match: RegExp) => {
      expect(res.status).toBe(status);
      const { error } = (await res.json()) as { error: string };
      expect(error).toMatch(match);
      expect(error).not.toContain('\n');
    };
    await expectError(await post('/decode', '{"payloads": [', { origin: UI }), 400, /^body is not JSON/);
    await expectError(await post('/decode', { nope: 1 }), 400, /^body must be \{"payloads":\[\.\.\.\]\} \(unexpected key "nope"\)$/);
    await expectError(
      await post('/decode', { payloads: [{ metadata: { encoding: 'not base64!' } }] }),
      400,
      /payloads\[0\]\.metadata\.encoding must be a base64 string/,
    );
    const [sealed] = await encryption().encode([defaultPayloadConverter.toPayload('x')]);
    const tampered = toJson({ ...sealed, data: Buffer.from(sealed!.data!).fill(0, 12, 14) });
    await expectError(await post('/decode', { payloads: [tampered] }), 400, /authentication failed/);
    const [foreign] = await encryption({ other: key(7) }, 'other').encode([defaultPayloadConverter.toPayload('x')]);
    await expectError(await post('/decode', { payloads: [toJson(foreign!)] }), 400, /key id "other" is not configured/);
    await expectError(await post('/nowhere', { payloads: [] }), 404, /no such endpoint/);
    const get = await fetch(`${server.url}/decode`);
    expect(get.headers.get('allow')).toBe('POST, OPTIONS');
    await expectError(get, 405, /GET is not allowed/);
    expect((await post('/decode', { payloads: [] })).status).toBe(200);
  });

  it('caps decoded bytes per payload: a gzip bomb is refused with 413 in one line, and the server keeps serving', async () => {
    // 64 MiB of zeros gzip to ~64 KB; the adversarial tester's 272 KB request decoded to 280 MB.
    const raw = Buffer.concat([Buffer.from([0x12, 0x80, 0x80, 0x80, 0x20]), Buffer.alloc(64 * 1024 * 1024)]); // Payload{data: 64 MiB}
    const bomb = { metadata: { encoding: b64(u8('binary/gzip')) }, data: gzipSync(raw).toString('base64') };
    expect(bomb.data.length).toBeLessThan(100_000);
    const res = await post('/decode', { payloads: [{ ...bomb }] }, { origin: UI });
    expect(res.status).toBe(413);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI); // so the UI can show why
    const { error } = (await res.json()) as { error: string };
    expect(error).toBe("payloads[0] decodes to more than 4194304 bytes, the codec server's limit per payload");
    const ok = await post('/decode', { payloads: [toJson(await encodeOne(codecs, 'still here'))] });
    expect(ok.status).toBe(200);
  });

  it('caps decoded bytes per request (16 MiB across payloads), counted while decoding', async () => {
    // Each payload decodes to 3.5 MiB, under the per-payload cap; five of them are 17.5 MiB.
    const [zipped] = await new GzipCodec().encode([defaultPayloadConverter.toPayload('z'.repeat(3.5 * 1024 * 1024))]);
    const one = toJson(zipped!);
    const three = await post('/decode', { payloads: [one, one, one] });
    expect(three.status).toBe(200);
    expect(((await three.json()) as { payloads: unknown[] }).payloads).toHaveLength(3);
    const five = await post('/decode', { payloads: [one, one, one, one, one] });
    expect(five.status).toBe(413);
    expect(((await five.json()) as { error: string }).error).toBe(
      "payloads[4] would bring the decoded total above 16777216 bytes, the codec server's limit per request: decode fewer payloads at a time",
    );
  });

  it('takes its caps as options and applies them to a composed gzip + encryption chain', async () => {
    const capped = await startCodecServer({ codecs, port: 0, maxPayloadBytes: 10_000, maxDecodedBytes: 25_000 });
    try {
      const call = async (values: string[]) =>
        fetch(`${capped.url}/decode`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ payloads: await Promise.all(values.map(async (v) => toJson(await encodeOne(codecs, v)))) }),
        });
      expect((await call(['a'.repeat(9_000), 'b'.repeat(9_000)])).status).toBe(200);
      const big = await call(['a'.repeat(20_000)]);
      expect(big.status).toBe(413);
      expect(((await big.json()) as { error: string }).error).toMatch(/^payloads\[0\] decodes to more than 10000 bytes/);
      const many = await call(['a'.repeat(9_000), 'b'.repeat(9_000), 'c'.repeat(9_000)]);
      expect(many.status).toBe(413);
      expect(((await many.json()) as { error: string }).error).toMatch(/^payloads\[2\] would bring the decoded total above 25000 bytes/);
    } finally {
      await capped.close();
    }
  });

  it('caps the number of payloads per request (10,000): a 16 MiB body of empty payloads is refused at once', async () => {
    expect((await post('/decode', { payloads: Array(10_000).fill({}) })).status).toBe(200);
    // 5.6 million `{}`: they decode to nothing, but cost 37 s and 4.3 GB of memory before this cap.
    const body = `{"payloads":[${Array(5_000_000).fill('{}').join(',')}]}`;
    const started = Date.now();
    await expectOneLineError(
      await post('/decode', body),
      413,
      "the request holds 5000000 payloads, the codec server's limit is 10000: send fewer at a time",
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('refuses a payload once an earlier one used up the whole per-request budget', async () => {
    // The first payload, serialized, is exactly the budget.
    const budget = proto.temporal.api.common.v1.Payload.encode(defaultPayloadConverter.toPayload('a'.repeat(9_000))).finish().length;
    const exact = await startCodecServer({ codecs, port: 0, maxPayloadBytes: 10_000, maxDecodedBytes: budget });
    try {
      const payloads = await Promise.all(['a'.repeat(9_000), 'b'.repeat(300)].map(async (v) => toJson(await encodeOne(codecs, v))));
      const one = await fetch(`${exact.url}/decode`, {
        method: 'POST',
        headers: JSON_TYPE,
        body: JSON.stringify({ payloads: payloads.slice(0, 1) }),
      });
      expect(one.status).toBe(200);
      const res = await fetch(`${exact.url}/decode`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ payloads }) });
      await expectOneLineError(
        res,
        413,
        `payloads[1] would bring the decoded total above ${budget} bytes, the codec server's limit per request: decode fewer payloads at a time`,
      );
    } finally {
      await exact.close();
    }
  });

  it('requires Content-Type: application/json on POST (415): a cross-origin text/plain POST from any web page decodes nothing', async () => {
    // What the Web UI (data-encoder.ts) and the temporal CLI (the Go SDK's remote codec) send.
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON']) {
      expect((await post('/decode', { payloads: [] }, { 'content-type': type })).status).toBe(200);
    }
    // "Simple" requests a page may send cross-origin with no CORS preflight, and a body with no type.
    const body = JSON.stringify({ payloads: [toJson(await encodeOne(codecs, 'text only the UI may read'))] });
    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await fetch(`${server.url}/decode`, {
        method: 'POST',
        headers: { 'content-type': type, origin: 'https://evil.example' },
        body,
      });
      expect(res.status).toBe(415);
      expect(((await res.json()) as { error: string }).error).toBe(
        `POST needs Content-Type: application/json (got ${JSON.stringify(type)})`,
      );
    }
    const untyped = await fetch(`${server.url}/decode`, { method: 'POST', body: new TextEncoder().encode(body) });
    expect(untyped.status).toBe(415);
    expect(((await untyped.json()) as { error: string }).error).toBe('POST needs Content-Type: application/json (got none)');
  });

  it('answers only requests addressed to localhost, 127.0.0.1 or [::1] on its port (DNS rebinding): 403 otherwise', async () => {
    const port = new URL(server.url).port;
    const body = JSON.stringify({ payloads: [toJson(await encodeOne(codecs, 'rebound'))] });
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LocalHost:${port}`]) {
      expect((await withHost(server.url, host, 'POST', body)).status).toBe(200);
    }
    // A page on attacker.example whose name now resolves to 127.0.0.1 is same-origin to itself: no CORS.
    for (const host of [`attacker.example:${port}`, 'attacker.example', `localhost:${Number(port) + 1}`, `127.0.0.2:${port}`, '']) {
      for (const method of ['POST', 'OPTIONS']) {
        const res = await withHost(server.url, host, method, body);
        expect(res.status).toBe(403);
        expect(res.body).not.toContain(b64(u8('"rebound"')));
        expect((JSON.parse(res.body) as { error: string }).error).toBe(
          `Host ${JSON.stringify(host)} is not this codec server: call it as http://localhost:${port} (or 127.0.0.1, [::1])`,
        );
      }
    }
  });

  it('reads a body with no payloads key as an empty list, as the temporal CLI sends for a call without input', async () => {
    for (const body of ['{}', '{"payloads":null}']) {
      for (const path of ['/decode', '/encode']) {
        const res = await post(path, body);
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ payloads: [] });
      }
    }
    await expectOneLineError(await post('/decode', '[]'), 400, 'body must be {"payloads":[...]}');
    await expectOneLineError(await post('/decode', '{"payloads":{}}'), 400, 'body must be {"payloads":[...]}');
  });

  it('refuses a body over the size limit with 413', async () => {
    const small = await startCodecServer({ codecs, port: 0, maxBodyBytes: 1024 });
    try {
      const res = await fetch(`${small.url}/decode`, {
        method: 'POST',
        headers: JSON_TYPE,
        body: JSON.stringify({ payloads: [{ data: 'A'.repeat(4000) }] }),
      });
      expect(res.status).toBe(413);
      // A chunked body has no content-length up front: counted as it streams in.
      const chunks = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 8; i++) c.enqueue(u8('x'.repeat(512)));
          c.close();
        },
      });
      const streamed = await fetch(`${small.url}/decode`, {
        method: 'POST',
        headers: JSON_TYPE,
        body: chunks,
        duplex: 'half',
      } as RequestInit);
      expect(streamed.status).toBe(413);
      expect(((await streamed.json()) as { error: string }).error).toBe('body is larger than 1024 bytes');
      expect((await fetch(`${small.url}/decode`, { method: 'POST', headers: JSON_TYPE, body: '{"payloads":[]}' })).status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('requires the bearer token when configured, but not for the preflight', async () => {
    const secured = await startCodecServer({ codecs, port: 0, authToken: 's3cret', allowedOrigins: ['https://ui.example/'] });
    try {
      const call = (headers: Record<string, string>) =>
        fetch(`${secured.url}/decode`, { method: 'POST', headers: { ...JSON_TYPE, ...headers }, body: JSON.stringify({ payloads: [] }) });
      const denied = await call({ origin: 'https://ui.example' });
      expect(denied.status).toBe(401);
      expect(denied.headers.get('access-control-allow-origin')).toBe('https://ui.example');
      expect(((await denied.json()) as { error: string }).error).toMatch(/authorization/);
      expect((await call({ authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await call({ authorization: 'Bearer s3cret' })).status).toBe(200);
      const preflight = await fetch(`${secured.url}/decode`, { method: 'OPTIONS', headers: { origin: 'https://ui.example' } });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://ui.example');
      const local = await fetch(`${secured.url}/decode`, { method: 'OPTIONS', headers: { origin: UI } });
      expect(local.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await secured.close();
    }
  });

  it('refuses a non-loopback bind without a token unless told explicitly; without a token the Host check stays on', async () => {
    await expect(startCodecServer({ codecs, port: 0, host: '0.0.0.0' })).rejects.toThrow(
      /^refusing to serve the codec server on 0\.0\.0\.0 \(not a loopback address\) without authToken: set one, or allowNoToken: true if only trusted hosts can reach it$/,
    );
    const tokened = await startCodecServer({ codecs, port: 0, host: '0.0.0.0', authToken: 't0ken' });
    try {
      // Behind a token, any Host (a proxy's name, the machine's address) is fine.
      const port = new URL(tokened.url).port;
      const res = await new Promise<number>((resolve, reject) =>
        httpRequest(
          {
            hostname: '127.0.0.1',
            port,
            method: 'POST',
            path: '/decode',
            setHost: false,
            headers: { host: `codec.internal:${port}`, 'content-type': 'application/json', authorization: 'Bearer t0ken' },
          },
          (r) => resolve(r.resume().statusCode ?? 0),
        )
          .on('error', reject)
          .end('{"payloads":[]}'),
      );
      expect(res).toBe(200);
    } finally {
      await tokened.close();
    }
    const open = await startCodecServer({ codecs, port: 0, host: '0.0.0.0', allowNoToken: true });
    try {
      const local = open.url.replace('0.0.0.0', '127.0.0.1');
      const port = new URL(local).port;
      expect((await withHost(local, `localhost:${port}`, 'POST', '{"payloads":[]}')).status).toBe(200);
      expect((await withHost(local, `attacker.example:${port}`, 'POST', '{"payloads":[]}')).status).toBe(403);
    } finally {
      await open.close();
    }
  });

  it('`agent-runner codec-server --host 0.0.0.0` without AGENT_RUNNER_CODEC_TOKEN stops with one line; --allow-no-token serves', async () => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    const refused = await run(process.execPath, [BIN, 'codec-server', '--host', '0.0.0.0', '--port', '0'], 30_000, env);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(
      'error: refusing to serve the codec server on 0.0.0.0 (not a loopback address) without a token: set AGENT_RUNNER_CODEC_TOKEN, ' +
        'or pass --allow-no-token (AGENT_RUNNER_CODEC_ALLOW_NO_TOKEN=true) if only trusted hosts can reach that address, ' +
        'e.g. a container port published on 127.0.0.1 (see agent-runner codec-server --help)\n',
    );
    const badFlag = await run(process.execPath, [BIN, 'codec-server', '--port', '0'], 30_000, {
      ...env,
      AGENT_RUNNER_CODEC_ALLOW_NO_TOKEN: 'yes',
    });
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toBe(
      'error: AGENT_RUNNER_CODEC_ALLOW_NO_TOKEN must be "true" or "false", got "yes" (see agent-runner codec-server --help)\n',
    );
    for (const how of [['--allow-no-token'], []]) {
      const extraEnv = how.length ? {} : { AGENT_RUNNER_CODEC_ALLOW_NO_TOKEN: 'true' };
      const served = await run(
        process.execPath,
        [BIN, 'codec-server', '--host', '0.0.0.0', '--port', '0', ...how],
        30_000,
        {
          ...env,
          ...extraEnv,
        },
        (out, kill) => out.includes('codec server on') && kill('SIGTERM'),
      );
      expect(served.code).toBe(0);
      expect(served.stdout).toMatch(
        /^codec server on http:\/\/0\.0\.0\.0:\d+: .*; no token \(allowed explicitly\): answers only to localhost, 127\.0\.0\.1, \[::1\]\n$/,
      );
    }
  });

  it('frees the port on close()', async () => {
    const first = await startCodecServer({ codecs, port: 0 });
    await post('/decode', { payloads: [] }); // keep-alive connections must not hold close() up
    await fetch(`${first.url}/decode`, { method: 'POST', headers: JSON_TYPE, body: '{"payloads":[]}' });
    const port = Number(new URL(first.url).port);
    await first.close();
    await expect(fetch(`${first.url}/decode`, { method: 'POST', headers: JSON_TYPE, body: '{"payloads":[]}' })).rejects.toThrow();
    const again = await startCodecServer({ codecs, port });
    expect(again.url).toBe(`http://127.0.0.1:${port}`);
    await again.close();
  });

  it('decodes a payload as stored by a real Temporal server', async () => {
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      const client = new Client({ connection, dataConverter: { payloadCodecs: codecs } });
      // No worker listens on this queue: the run only needs to exist long enough to read its history.
      const handle = await client.workflow.start('codecProbe', {
        taskQueue: `codecs-${randomUUID().slice(0, 8)}`,
        workflowId: `codecs-${randomUUID()}`,
        args: [{ card: '4111-secret-4111' }],
      });
      const history = await handle.fetchHistory();
      await handle.terminate('codec test done');
      const stored = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      expect(encoding(stored ?? undefined)).toBe('binary/encrypted');
      expect(Buffer.from(stored!.data!).includes('4111-secret')).toBe(false);
      const res = await post('/decode', { payloads: [toJson(stored!)] });
      const { payloads } = (await res.json()) as { payloads: JsonPayload[] };
      expect(defaultPayloadConverter.fromPayload(fromJson(payloads[0]!))).toEqual({ card: '4111-secret-4111' });
    } finally {
      await connection.close();
    }
  });
});

/** Run a command to its end (killed after `timeoutMs`), without blocking this process's event loop. */
function run(
  cmd: string,
  args: string[],
  timeoutMs = 30_000,
  env?: NodeJS.ProcessEnv,
  onOutput?: (stdout: string, kill: (signal: NodeJS.Signals) => void) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(env && { env }) });
    let stdout = '';
    let stderr = '';
    const kill = (signal: NodeJS.Signals) => void child.kill(signal);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onOutput?.(stdout, kill);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the temporal CLI through the codec server', () => {
  let h: Harness;
  let codec: CodecServer;
  beforeAll(async () => {
    h = await startHarness();
    codec = await startCodecServer({ codecs: payloadCodecs(codecSettingsFromEnv()), port: 0 });
  });
  afterAll(async () => {
    await codec?.close();
    await h?.close();
  });

  it('`temporal workflow query --name state --codec-endpoint …` works (the CLI encodes its empty input as {})', async () => {
    h.fake.script(text('Noted.'));
    const r = await h.run('triage', 'Remember order 48810.');
    expect(r.status).toBe('completed');
    // Asynchronously: the worker that answers the query and the codec server live in this process.
    const q = await run(ensureTemporalCli(), [
      ...['workflow', 'query', '--address', h.address, '--workflow-id', r.workflowId, '--name', 'state'],
      ...['--codec-endpoint', codec.url, '-o', 'json'],
    ]);
    expect(q.stderr).toBe('');
    expect(q.code).toBe(0);
    const { queryResult } = JSON.parse(q.stdout) as { queryResult: [{ phase: string; turn: number; lastAssistantText?: string }] };
    expect(queryResult[0]).toMatchObject({ phase: 'done', turn: 1 });
  });
});

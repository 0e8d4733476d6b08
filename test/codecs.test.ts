/**
 * Payload codecs and the codec server: round trips through Temporal's own data converter, the
 * environment settings, real HTTP calls shaped like the Web UI's, and one real dev-server history.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, str, u8, type Payload, type PayloadCodec } from '@temporalio/common';
import { decodeFromPayloadsAtIndex, encodeToPayloads, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/index.js';
import proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCodecServer, type CodecServer } from '../connection/codec-server.js';
import {
  codecSettingsFromEnv,
  dataConverter,
  DEFAULT_COMPRESSION,
  EncryptionCodec,
  GzipCodec,
  payloadCodecs,
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
    expect(payloadCodecs(codecSettingsFromEnv({})).map((c) => c.constructor.name)).toEqual(['GzipCodec']);
    const s = codecSettingsFromEnv({ AGENT_RUNNER_COMPRESSION: 'on', AGENT_RUNNER_ENCRYPTION_KEY: b64(key(3)) });
    expect(s).toEqual({ compress: true, encryption: { keys: { default: key(3) }, encryptWith: 'default' } });
    const codecs = payloadCodecs(s);
    expect(codecs.map((c) => c.constructor.name)).toEqual(['GzipCodec', 'EncryptionCodec']);
    expect(codecSettingsFromEnv({ AGENT_RUNNER_COMPRESSION: 'off' }).compress).toBe(false);
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
    await expectError(await post('/decode', { nope: 1 }), 400, /body must be \{"payloads":\[\.\.\.\]\}/);
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

  it('refuses a body over the size limit with 413', async () => {
    const small = await startCodecServer({ codecs, port: 0, maxBodyBytes: 1024 });
    try {
      const res = await fetch(`${small.url}/decode`, { method: 'POST', body: JSON.stringify({ payloads: [{ data: 'A'.repeat(4000) }] }) });
      expect(res.status).toBe(413);
      // A chunked body has no content-length up front: counted as it streams in.
      const chunks = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 8; i++) c.enqueue(u8('x'.repeat(512)));
          c.close();
        },
      });
      const streamed = await fetch(`${small.url}/decode`, { method: 'POST', body: chunks, duplex: 'half' } as RequestInit);
      expect(streamed.status).toBe(413);
      expect(((await streamed.json()) as { error: string }).error).toBe('body is larger than 1024 bytes');
      expect((await fetch(`${small.url}/decode`, { method: 'POST', body: '{"payloads":[]}' })).status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('requires the bearer token when configured, but not for the preflight', async () => {
    const secured = await startCodecServer({ codecs, port: 0, authToken: 's3cret', allowedOrigins: ['https://ui.example/'] });
    try {
      const call = (headers: Record<string, string>) =>
        fetch(`${secured.url}/decode`, { method: 'POST', headers, body: JSON.stringify({ payloads: [] }) });
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

  it('frees the port on close()', async () => {
    const first = await startCodecServer({ codecs, port: 0 });
    await post('/decode', { payloads: [] }); // keep-alive connections must not hold close() up
    await fetch(`${first.url}/decode`, { method: 'POST', body: '{"payloads":[]}' });
    const port = Number(new URL(first.url).port);
    await first.close();
    await expect(fetch(`${first.url}/decode`, { method: 'POST', body: '{"payloads":[]}' })).rejects.toThrow();
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

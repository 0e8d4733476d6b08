/**
 * Payload codecs: what leaves the process for Temporal Server is compressed and/or encrypted.
 *
 * Every client, worker and replayer must use the **same** {@link dataConverter}, or one of them
 * reads payloads it cannot decode. Codecs run outside the workflow sandbox, so `node:zlib` and
 * `node:crypto` are fine here.
 *
 * Order: Temporal applies `encode` in array order and `decode` in reverse, so
 * `payloadCodecs: [gzip, encryption]` compresses first and then encrypts. The other order would
 * be useless: ciphertext looks random and does not compress.
 *
 * | variable | default |
 * |---|---|
 * | AGENT_RUNNER_COMPRESSION | `on` (`on` \| `off`: what is written, payloads from 1 KiB; `binary/gzip` is always read) |
 * | AGENT_RUNNER_ENCRYPTION_KEY | unset = no encryption; base64 of 32 bytes (`openssl rand -base64 32`) |
 * | AGENT_RUNNER_ENCRYPTION_KEY_ID | `default` |
 * | AGENT_RUNNER_ENCRYPTION_OLD_KEYS | unset; `id1:base64,id2:base64`, accepted for decode only |
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib';
import { str, u8, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
// @temporalio/proto is CommonJS whose named exports Node cannot detect: default import only.
import proto from '@temporalio/proto';

const ProtoPayload = proto.temporal.api.common.v1.Payload;
const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Metadata `encoding` of payloads made by {@link EncryptionCodec}. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata `encoding` of payloads made by {@link GzipCodec}. */
export const GZIP_ENCODING = 'binary/gzip';
/**
 * Whether payloads are compressed when `AGENT_RUNNER_COMPRESSION` is unset: yes, because every
 * model call's input carries the whole conversation, and gzip makes that history ~6.5× smaller at
 * no measured latency cost (README, "Why compression is on by default", which also says how the
 * Temporal CLI, UI and other SDKs read compressed runs).
 */
export const DEFAULT_COMPRESSION = true;
/** Key id used when `AGENT_RUNNER_ENCRYPTION_KEY_ID` is unset. */
export const DEFAULT_KEY_ID = 'default';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const MAKE_KEY = 'make one with: openssl rand -base64 32';

/** The whole Payload (metadata included) as bytes, so a codec hides the original encoding too. */
function serialize(p: Payload): Uint8Array {
  return ProtoPayload.encode(p).finish();
}

/** Bytes back to a plain Payload; protobufjs leaves absent bytes fields as a shared `[]`, not a Uint8Array. */
function deserialize(bytes: Uint8Array): Payload {
  const m = ProtoPayload.decode(bytes);
  const p: Payload = { metadata: { ...m.metadata }, data: m.data instanceof Uint8Array ? m.data : new Uint8Array(0) };
  if (m.externalPayloads.length > 0) p.externalPayloads = m.externalPayloads;
  return p;
}

function encodingOf(p: Payload): string | undefined {
  const e = p.metadata?.encoding;
  return e ? str(e) : undefined;
}

/** Key ids come from payloads (untrusted) and end up in messages: keep them short and printable. */
function shownId(id: string): string {
  return JSON.stringify(id.length > 64 ? `${id.slice(0, 64)}…` : id);
}

/** Keys for {@link EncryptionCodec}: every key may decode, only `encryptWith` encrypts. */
export interface EncryptionKeys {
  /** Key id → 32-byte AES-256 key. Old ids stay here after a rotation so old history still decodes. */
  keys: Record<string, Buffer>;
  /** Id of the key new payloads are encrypted with. */
  encryptWith: string;
}

/**
 * AES-256-GCM over the serialized Payload.
 *
 * Encoded payload: metadata `encoding: binary/encrypted`, `encryption-key-id: <id>`; data is
 * `iv (12 bytes) ‖ ciphertext ‖ auth tag (16 bytes)`, the layout of temporalio/samples-typescript
 * `encryption`. The key id is stored so keys can rotate without breaking old workflow histories.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly encryptWith: string;

  constructor(opts: EncryptionKeys) {
    const keys = new Map<string, Buffer>();
    for (const [id, key] of Object.entries(opts.keys)) {
      if (key.length !== KEY_BYTES) {
        throw new Error(`encryption key ${shownId(id)} has ${key.length} bytes, AES-256 needs ${KEY_BYTES}; ${MAKE_KEY}`);
      }
      keys.set(id, Buffer.from(key)); // a copy: a caller zeroing its buffer must not break decoding
    }
    if (!keys.has(opts.encryptWith)) throw new Error(`encryptWith key id ${shownId(opts.encryptWith)} is not among the keys`);
    this.keys = keys;
    this.encryptWith = opts.encryptWith;
  }

  /** Encrypts every payload with the `encryptWith` key and a fresh random IV. */
  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys.get(this.encryptWith)!; // checked in the constructor
    return payloads.map((p) => {
      // GCM must never reuse an IV with the same key: a random 96-bit IV per payload.
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const ciphertext = Buffer.concat([cipher.update(serialize(p)), cipher.final()]);
      return {
        metadata: { encoding: u8(ENCRYPTED_ENCODING), 'encryption-key-id': u8(this.encryptWith) },
        data: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]),
      };
    });
  }

  /** Decrypts `binary/encrypted` payloads with the key they name; other payloads pass unchanged. */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (encodingOf(p) !== ENCRYPTED_ENCODING) return p;
      const idBytes = p.metadata?.['encryption-key-id'];
      if (!idBytes) throw new Error('encrypted payload has no encryption-key-id metadata');
      const id = str(idBytes);
      const key = this.keys.get(id);
      if (!key) {
        throw new Error(
          `cannot decrypt payload: key id ${shownId(id)} is not configured; add it as ${shownId(`${id}:<base64 key>`)} to ` +
            'AGENT_RUNNER_ENCRYPTION_OLD_KEYS (or make it the current AGENT_RUNNER_ENCRYPTION_KEY / _KEY_ID)',
        );
      }
      const data = p.data ?? new Uint8Array(0);
      if (data.length < IV_BYTES + TAG_BYTES) {
        throw new Error(`cannot decrypt payload with key id ${shownId(id)}: ${data.length} bytes is too short to be iv ‖ ciphertext ‖ tag`);
      }
      const iv = data.subarray(0, IV_BYTES);
      const tag = data.subarray(data.length - TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAuthTag(tag);
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        // OpenSSL's own message ("Unsupported state or unable to authenticate data") explains nothing.
        throw new Error(
          `cannot decrypt payload with key id ${shownId(id)}: authentication failed (the payload was altered, or this is not the key it was encrypted with)`,
        );
      }
      return deserialize(plain);
    });
  }
}

/**
 * Payloads (serialized, or compressed when decoding) up to this size are (de)compressed on the
 * calling thread: for small inputs zlib's work is shorter than the thread-pool round trip of the
 * async API (measured: ~70–270 µs sync vs ~200–330 µs async for 0.3–4 KB on this machine). Larger
 * ones go to the thread pool, so the event loop is never blocked long.
 */
const SYNC_BELOW_BYTES = 64 * 1024;
/** The same for decoding, by compressed size; lower, as 16 KiB of hostile gzip can still inflate ~1000×. */
const SYNC_DECODE_BELOW_BYTES = 16 * 1024;

/** Options of {@link GzipCodec}. */
export interface GzipCodecOptions {
  /**
   * Serialized payloads smaller than this stay as they are. Default 1 KiB: below it gzip saves a
   * few hundred bytes at most (≈ 1.5–2× on text) for ~0.1 ms of CPU per payload on both sides.
   */
  minBytes?: number;
  /** Refuse to inflate beyond this (a gzip bomb guard, mainly for the codec server). Default 256 MiB. */
  maxDecodedBytes?: number;
  /** `false`: encode passes payloads through unchanged; decode still inflates `binary/gzip`. Default true. */
  compress?: boolean;
}

/** A payload inflates beyond the limit it was decoded with; thrown before more than `limit` bytes exist. */
export class PayloadTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`binary/gzip payload decodes to more than ${limit} bytes`);
    this.name = 'PayloadTooLargeError';
  }
}

/**
 * Gzip over the serialized Payload, metadata `encoding: binary/gzip`.
 *
 * Put it before {@link EncryptionCodec} in `payloadCodecs`: encode runs in array order.
 */
export class GzipCodec implements PayloadCodec {
  private readonly minBytes: number;
  private readonly maxDecodedBytes: number;
  private readonly compress: boolean;

  constructor(opts: GzipCodecOptions = {}) {
    this.minBytes = opts.minBytes ?? 1024;
    this.maxDecodedBytes = opts.maxDecodedBytes ?? 256 * 1024 * 1024;
    this.compress = opts.compress ?? true;
  }

  /** The same codec with a smaller inflate limit (the codec server's caps). */
  limitedTo(maxDecodedBytes: number): GzipCodec {
    return new GzipCodec({
      minBytes: this.minBytes,
      // zlib refuses a limit below 1; a limit of 1 refuses every real payload all the same.
      maxDecodedBytes: Math.max(1, Math.min(maxDecodedBytes, this.maxDecodedBytes)),
      compress: this.compress,
    });
  }

  /** Compresses payloads of at least `minBytes` when that makes them smaller (unless `compress: false`). */
  async encode(payloads: Payload[]): Promise<Payload[]> {
    if (!this.compress) return payloads;
    return Promise.all(
      payloads.map(async (p) => {
        const raw = serialize(p);
        if (raw.length < this.minBytes) return p;
        const compressed = raw.length <= SYNC_BELOW_BYTES ? gzipSync(raw) : await gzipAsync(raw);
        // Already-compressed data (images, archives) can grow; keeping it as is costs nothing.
        if (compressed.length >= raw.length) return p;
        return { metadata: { encoding: u8(GZIP_ENCODING) }, data: compressed };
      }),
    );
  }

  /** Inflates `binary/gzip` payloads; other payloads pass unchanged. */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (p) => {
        if (encodingOf(p) !== GZIP_ENCODING) return p;
        let raw: Buffer;
        try {
          // zlib stops inflating at the limit: a bomb never allocates more than this.
          const data = p.data ?? new Uint8Array(0);
          const opts = { maxOutputLength: this.maxDecodedBytes };
          raw = data.length <= SYNC_DECODE_BELOW_BYTES ? gunzipSync(data, opts) : await gunzipAsync(data, opts);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new PayloadTooLargeError(this.maxDecodedBytes);
          throw new Error(`cannot decompress binary/gzip payload: ${err instanceof Error ? err.message : String(err)}`);
        }
        return deserialize(raw);
      }),
    );
  }
}

/** What {@link payloadCodecs} builds, usually from {@link codecSettingsFromEnv}. */
export interface CodecSettings {
  compress: boolean;
  /** Absent = payloads are stored in clear. */
  encryption?: EncryptionKeys;
}

/** Strict base64 of exactly 32 bytes; the message never contains the value. */
function parseKey(value: string, what: string): Buffer {
  const s = value.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 !== 0) {
    throw new Error(`${what} is not valid base64; ${MAKE_KEY}`);
  }
  const key = Buffer.from(s, 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`${what} must be base64 of exactly ${KEY_BYTES} bytes, got ${key.length}; ${MAKE_KEY}`);
  return key;
}

function parseKeyId(id: string, what: string): string {
  // ':' and ',' separate entries of AGENT_RUNNER_ENCRYPTION_OLD_KEYS, so an id cannot contain them.
  if (!/^[^\s:,]+$/.test(id)) throw new Error(`${what} must be a non-empty key id without spaces, ':' or ','`);
  return id;
}

/**
 * Read the codec settings from the environment (see the table at the top of this file).
 * Throws one line naming the variable that is wrong; key material never appears in it.
 */
export function codecSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): CodecSettings {
  const compression = (env.AGENT_RUNNER_COMPRESSION ?? '').trim().toLowerCase();
  if (compression !== '' && compression !== 'on' && compression !== 'off') {
    throw new Error(`AGENT_RUNNER_COMPRESSION must be "on" or "off", got ${shownId(compression)}`);
  }
  const compress = compression === '' ? DEFAULT_COMPRESSION : compression === 'on';

  const current = env.AGENT_RUNNER_ENCRYPTION_KEY?.trim();
  const old = env.AGENT_RUNNER_ENCRYPTION_OLD_KEYS?.trim();
  if (!current) {
    // Silently ignoring old keys would leave encrypted history undecodable with no hint why.
    if (old) throw new Error('AGENT_RUNNER_ENCRYPTION_OLD_KEYS is set but AGENT_RUNNER_ENCRYPTION_KEY is not; set the current key too');
    return { compress };
  }
  const encryptWith = parseKeyId(env.AGENT_RUNNER_ENCRYPTION_KEY_ID?.trim() || DEFAULT_KEY_ID, 'AGENT_RUNNER_ENCRYPTION_KEY_ID');
  const keys: Record<string, Buffer> = { [encryptWith]: parseKey(current, 'AGENT_RUNNER_ENCRYPTION_KEY') };
  for (const entry of (old ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const colon = entry.indexOf(':');
    if (colon < 0) throw new Error('AGENT_RUNNER_ENCRYPTION_OLD_KEYS entries must look like id:base64key, separated by commas');
    const id = parseKeyId(entry.slice(0, colon).trim(), 'each AGENT_RUNNER_ENCRYPTION_OLD_KEYS id');
    if (id in keys) throw new Error(`AGENT_RUNNER_ENCRYPTION_OLD_KEYS lists key id ${shownId(id)} twice (or it is the current key id)`);
    keys[id] = parseKey(entry.slice(colon + 1), `AGENT_RUNNER_ENCRYPTION_OLD_KEYS key ${shownId(id)}`);
  }
  return { compress, encryption: { keys, encryptWith } };
}

/**
 * The codecs in Temporal's order: `[GzipCodec, EncryptionCodec?]` (compress, then encrypt).
 * `compress` only decides what is written: every process reads `binary/gzip`, so processes whose
 * AGENT_RUNNER_COMPRESSION differs (a rollout turning it on or off) still read each other.
 */
export function payloadCodecs(settings: CodecSettings): PayloadCodec[] {
  const codecs: PayloadCodec[] = [new GzipCodec({ compress: settings.compress })];
  codecs.push(settings.encryption ? new EncryptionCodec(settings.encryption) : new NoKeyCodec());
  return codecs;
}

/**
 * A process without a key meets an encrypted payload (the workers encrypt, it does not): say so
 * in one line, instead of the payload converter's "Unknown encoding: binary/encrypted".
 */
export class NoKeyCodec implements PayloadCodec {
  /** Writes nothing differently. */
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads;
  }

  /** Refuses encrypted payloads, naming the key id and the setting; others pass unchanged. */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    for (const p of payloads) {
      if (encodingOf(p) !== ENCRYPTED_ENCODING) continue;
      const id = p.metadata?.['encryption-key-id'];
      throw new Error(
        `cannot decrypt payload: it is encrypted${id ? ` with key id ${shownId(str(id))}` : ''} and this process has no ` +
          'AGENT_RUNNER_ENCRYPTION_KEY: give it the same encryption settings as the workers',
      );
    }
    return payloads;
  }
}

/** `failureConverterPath` of processes with encryption on: failure messages and stack traces are encoded. */
export const ENCODED_FAILURES_PATH = fileURLToPath(new URL('./encoded-failures.cjs', import.meta.url));
/** `failureConverterPath` of prebuilt workflow bundles: encodes when {@link ENCODE_FAILURES_FLAG} is set in the sandbox. */
export const WORKFLOW_FAILURES_PATH = fileURLToPath(new URL('./workflow-failures.cjs', import.meta.url));
/** The sandbox global that turns failure encoding on in a bundle built with {@link WORKFLOW_FAILURES_PATH}. */
export const ENCODE_FAILURES_FLAG = '__agentRunnerEncodeFailures';

/**
 * The one data converter for `new Client`, `Worker.create` and replay workers. With encryption
 * on, failures are encoded too: an error's message and stack trace (a tool's error text, a model
 * API message quoting the conversation) would otherwise be stored in clear next to encrypted
 * payloads. Every Temporal client reads encoded failures back; `agent-runner show` does too.
 */
export function dataConverter(settings: CodecSettings = codecSettingsFromEnv()): DataConverter {
  return { payloadCodecs: payloadCodecs(settings), ...(settings.encryption && { failureConverterPath: ENCODED_FAILURES_PATH }) };
}

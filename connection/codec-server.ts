/**
 * A codec server: the Temporal Web UI (and `temporal ... --codec-endpoint`) posts encoded payloads
 * here and shows what comes back, so people can read compressed or encrypted histories while the
 * keys stay on this machine.
 *
 * Protocol (temporalio/ui `data-encoder.ts`): `POST /decode` or `/encode` (the UI appends
 * `?preserveStorageRefs=true`), body `{"payloads":[{"metadata":{"k":"<base64>"},"data":"<base64>"}]}`
 * in proto3 JSON form (`{}` is an empty list), and the reply has the same shape. The browser calls
 * it cross-origin, so the server answers CORS itself; it never refuses a disallowed origin, it just
 * omits allow-origin and lets the browser block the response.
 *
 * It decodes for whoever reaches it, so: loopback by default, and no other address without a token
 * unless told (`allowNoToken`); on loopback or without a token, only requests addressed to
 * localhost/127.0.0.1/[::1] on its port (403: DNS rebinding); only `Content-Type:
 * application/json` (415: a page may POST text/plain anywhere without a preflight); at most 4 MiB
 * decoded per payload and 16 MiB per request, checked while inflating, and 10,000 payloads per
 * request (413: gzip bombs, floods of empty payloads).
 *
 * Only `node:http`: no framework, so the whole surface the UI can reach is in this file.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
// @temporalio/proto is CommonJS whose named exports Node cannot detect: default import only.
import proto from '@temporalio/proto';
import { GzipCodec, PayloadTooLargeError } from './codecs.js';

const ExternalPayloadDetails = proto.temporal.api.common.v1.Payload.ExternalPayloadDetails;

/** Origins of a local `temporal server start-dev` UI. */
export const DEFAULT_ALLOWED_ORIGINS: readonly string[] = ['http://localhost:8233', 'http://127.0.0.1:8233'];
const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Temporal stores payloads of at most 2 MB: twice that, decoded, is generous. */
const DEFAULT_MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_DECODED_BYTES = 16 * 1024 * 1024;
/** The UI and the CLI send one event field's payloads at a time: a handful. */
const DEFAULT_MAX_PAYLOADS = 10_000;

/** Options of {@link startCodecServer}. */
export interface CodecServerOptions {
  /** The same codecs, in the same order, as the workers' `dataConverter.payloadCodecs`. */
  codecs: PayloadCodec[];
  /** Default 8888; 0 picks a free port. */
  port?: number;
  /** Default `127.0.0.1`: the server decrypts for whoever reaches it, so it is not exposed by default. */
  host?: string;
  /** Browser origins allowed to read replies; default {@link DEFAULT_ALLOWED_ORIGINS}; `*` allows any. */
  allowedOrigins?: string[];
  /** If set, POSTs must carry `authorization: Bearer <authToken>`. */
  authToken?: string;
  /**
   * Listen on a non-loopback `host` without `authToken` (refused otherwise): only when nothing but
   * trusted hosts can reach it, e.g. a container port published on the host's 127.0.0.1. Such a
   * server still answers only requests addressed to localhost, 127.0.0.1 or [::1].
   */
  allowNoToken?: boolean;
  /** Largest accepted request body; default 16 MiB. */
  maxBodyBytes?: number;
  /** Most bytes one payload may decode to (checked while inflating: a gzip bomb stops there); default 4 MiB. */
  maxPayloadBytes?: number;
  /** Most bytes all payloads of one `/decode` request may decode to together; default 16 MiB. */
  maxDecodedBytes?: number;
  /** Most payloads in one request (empty ones cost memory and time too); default 10,000. */
  maxPayloads?: number;
}

/** A running codec server. */
export interface CodecServer {
  /** Base URL for `--ui-codec-endpoint` / `--codec-endpoint`, e.g. `http://127.0.0.1:8888`. */
  url: string;
  /** Stops listening and drops open connections (the UI keeps them alive). */
  close(): Promise<void>;
}

/** A failure with the status and one-line message the client sees. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/; // proto3 JSON accepts standard and URL-safe base64

function fromBase64(value: unknown, where: string): Uint8Array {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new HttpError(400, `${where} must be a base64 string`);
  return Buffer.from(value, 'base64');
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** proto3 JSON → Payloads, checking the shape so a bad request is a 400, not a crash. */
function payloadsFromJson(body: unknown, maxPayloads: number): Payload[] {
  if (!isObject(body)) throw new HttpError(400, 'body must be {"payloads":[...]}');
  const unknown = Object.keys(body).find((k) => k !== 'payloads');
  if (unknown !== undefined) throw new HttpError(400, `body must be {"payloads":[...]} (unexpected key ${JSON.stringify(unknown)})`);
  // proto3 JSON leaves out an empty list: the temporal CLI sends `{}` for a query or signal without input.
  if (body.payloads == null) return [];
  if (!Array.isArray(body.payloads)) throw new HttpError(400, 'body must be {"payloads":[...]}');
  if (body.payloads.length > maxPayloads) {
    throw new HttpError(
      413,
      `the request holds ${body.payloads.length} payloads, the codec server's limit is ${maxPayloads}: send fewer at a time`,
    );
  }
  return body.payloads.map((item: unknown, i): Payload => {
    const at = `payloads[${i}]`;
    if (!isObject(item)) throw new HttpError(400, `${at} must be an object`);
    const metadata: Record<string, Uint8Array> = {};
    if (item.metadata != null) {
      if (!isObject(item.metadata)) throw new HttpError(400, `${at}.metadata must be an object`);
      for (const [k, v] of Object.entries(item.metadata)) metadata[k] = fromBase64(v, `${at}.metadata.${k}`);
    }
    const p: Payload = { metadata, data: item.data == null ? new Uint8Array(0) : fromBase64(item.data, `${at}.data`) };
    if (item.externalPayloads != null) {
      // Size details of externally stored payloads (what preserveStorageRefs keeps): carried through.
      if (!Array.isArray(item.externalPayloads) || !item.externalPayloads.every(isObject)) {
        throw new HttpError(400, `${at}.externalPayloads must be an array of objects`);
      }
      p.externalPayloads = item.externalPayloads.map((d) => ExternalPayloadDetails.fromObject(d));
    }
    return p;
  });
}

function payloadToJson(p: Payload): Record<string, unknown> {
  const json: Record<string, unknown> = {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, toBase64(v)])),
    data: toBase64(p.data ?? new Uint8Array(0)),
  };
  if (p.externalPayloads && p.externalPayloads.length > 0) {
    json.externalPayloads = p.externalPayloads.map((d) =>
      ExternalPayloadDetails.toObject(ExternalPayloadDetails.fromObject(d), { longs: String }),
    );
  }
  return json;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (Number(req.headers['content-length'] ?? 0) > limit) throw new HttpError(413, `body is larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Chunked bodies have no content-length: count as they arrive.
    if (size > limit) throw new HttpError(413, `body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Whether a bind address only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

/** A decoded payload's size as gzip counts it: serialized, metadata included. */
function payloadBytes(p: Payload): number {
  return proto.temporal.api.common.v1.Payload.encode(p).finish().length;
}

function oneLine(message: string): string {
  return message.replace(/\s*[\r\n]+\s*/g, ' ').trim() || 'error';
}

function sameSecret(given: string, expected: string): boolean {
  // Hash first so the comparison is constant-time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function send(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  const text = JSON.stringify(body);
  // Decoded payloads are plaintext: no cache may keep them.
  res
    .writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(text),
    })
    .end(text);
}

/**
 * Start a codec server over `codecs`: `/decode` runs them in reverse order, `/encode` in order,
 * exactly as Temporal does.
 */
export async function startCodecServer(opts: CodecServerOptions): Promise<CodecServer> {
  const allowed = new Set((opts.allowedOrigins ?? DEFAULT_ALLOWED_ORIGINS).map((o) => o.replace(/\/+$/, '')));
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxPayload = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const maxDecoded = opts.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
  const maxPayloads = opts.maxPayloads ?? DEFAULT_MAX_PAYLOADS;
  const decoders = [...opts.codecs].reverse();

  /**
   * Decode one payload at a time, so no payload may inflate beyond the per-payload cap or what is
   * left of the per-request one: memory stays bounded whatever the request holds.
   */
  async function decodeAll(payloads: Payload[]): Promise<Payload[]> {
    const out: Payload[] = [];
    let total = 0;
    for (const [i, payload] of payloads.entries()) {
      const left = maxDecoded - total;
      const limit = Math.min(maxPayload, left);
      const tooLarge = () =>
        limit < maxPayload
          ? new HttpError(
              413,
              `payloads[${i}] would bring the decoded total above ${maxDecoded} bytes, the codec server's limit per request: decode fewer payloads at a time`,
            )
          : new HttpError(413, `payloads[${i}] decodes to more than ${maxPayload} bytes, the codec server's limit per payload`);
      let one = [payload];
      try {
        for (const codec of decoders) one = await (codec instanceof GzipCodec ? codec.limitedTo(limit) : codec).decode(one);
      } catch (err) {
        if (err instanceof PayloadTooLargeError) throw tooLarge();
        throw err;
      }
      const size = one.reduce((n, p) => n + payloadBytes(p), 0);
      // Codecs other than gzip do not inflate, but check what came out all the same.
      if (size > limit) throw tooLarge();
      total += size;
      out.push(...one);
    }
    return out;
  }

  /** CORS headers of every reply; without them the browser hides even an error from the UI. */
  function corsHeaders(req: IncomingMessage): OutgoingHttpHeaders {
    const origin = req.headers.origin;
    // The reply depends on Origin, so caches must key on it even when it is refused.
    const headers: OutgoingHttpHeaders = { vary: 'origin' };
    if (origin && (allowed.has(origin) || allowed.has('*'))) {
      headers['access-control-allow-origin'] = origin;
      headers['access-control-allow-credentials'] = 'true'; // the UI's "include credentials" option
    }
    return headers;
  }

  /**
   * `Host` values accepted, once the port is known; undefined = any. A page whose own name was
   * re-pointed at 127.0.0.1 (DNS rebinding) is same-origin to itself, so CORS does not stop it;
   * its requests still carry its name in `Host`.
   */
  let allowedHosts: ReadonlySet<string> | undefined;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const cors = corsHeaders(req);
    if (allowedHosts && !allowedHosts.has((req.headers.host ?? '').toLowerCase())) {
      const [first] = allowedHosts;
      throw new HttpError(
        403,
        `Host ${JSON.stringify(req.headers.host ?? '')} is not this codec server: call it as http://${first} (or 127.0.0.1, [::1])`,
      );
    }
    const path = (req.url ?? '/').split('?')[0];
    const op = path === '/decode' ? 'decode' : path === '/encode' ? 'encode' : undefined;
    if (!op) throw new HttpError(404, `no such endpoint: ${path}; use POST /decode or /encode`);

    if (req.method === 'OPTIONS') {
      // A preflight carries no credentials by design: never ask it for the token.
      const preflight: OutgoingHttpHeaders = { ...cors };
      if (cors['access-control-allow-origin']) {
        preflight['access-control-allow-methods'] = 'POST, OPTIONS';
        preflight['access-control-allow-headers'] = 'content-type, x-namespace, authorization, authorization-extras';
        preflight['access-control-max-age'] = '600';
      }
      send(res, 204, preflight);
      return;
    }
    if (req.method !== 'POST') throw new HttpError(405, `${req.method ?? '?'} is not allowed on ${path}; use POST`);
    // A web page may POST text/plain (or a form) to any address with no CORS preflight; only
    // application/json, which the UI and the temporal CLI send, forces one.
    const type = req.headers['content-type'];
    if (type?.split(';')[0]?.trim().toLowerCase() !== 'application/json') {
      throw new HttpError(415, `POST needs Content-Type: application/json (got ${type ? JSON.stringify(type) : 'none'})`);
    }
    if (opts.authToken !== undefined) {
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || !sameSecret(auth.slice('Bearer '.length).trim(), opts.authToken)) {
        throw new HttpError(401, 'missing or wrong authorization: Bearer token');
      }
    }
    // x-namespace is accepted (the UI sends it) but the codecs are the same for every namespace.
    const raw = await readBody(req, maxBody);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw new HttpError(400, `body is not JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    let payloads = payloadsFromJson(body, maxPayloads);
    try {
      if (op === 'decode') payloads = await decodeAll(payloads);
      else for (const codec of opts.codecs) payloads = await codec.encode(payloads);
    } catch (err) {
      if (err instanceof HttpError) throw err;
      // Unknown key id, tampered ciphertext, corrupt gzip: the codec's message says which.
      throw new HttpError(400, err instanceof Error ? err.message : String(err));
    }
    send(res, 200, cors, { payloads: payloads.map(payloadToJson) });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof HttpError ? err.message : 'internal error';
      if (!(err instanceof HttpError)) console.error('codec server:', err);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const headers = corsHeaders(req);
      if (status === 405) headers.allow = 'POST, OPTIONS';
      if (status === 401) headers['www-authenticate'] = 'Bearer';
      // An unread body (413) would otherwise keep the connection busy.
      if (status === 413) headers.connection = 'close';
      send(res, status, headers, { error: oneLine(message) });
    });
  });

  const host = opts.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && opts.authToken === undefined && !opts.allowNoToken) {
    throw new Error(
      `refusing to serve the codec server on ${host} (not a loopback address) without authToken: set one, or allowNoToken: true if only trusted hosts can reach it`,
    );
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8888, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  // Loopback servers, and any server without a token, answer only to their loopback names.
  if (isLoopbackHost(host) || opts.authToken === undefined) {
    const names = ['localhost', '127.0.0.1', '[::1]'];
    allowedHosts = new Set([...names.map((n) => `${n}:${port}`), ...(port === 80 ? names : [])]);
  }
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

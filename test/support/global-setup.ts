/**
 * Starts one real Temporal dev server (the CLI, installed by the project if missing) and builds
 * the workflow bundle once; every test file reads both through `inject`.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { startCodecServer, type CodecServer } from '../../connection/codec-server.js';
import { codecSettingsFromEnv, payloadCodecs } from '../../connection/codecs.js';
import { freePort, startDevServer, type DevServer } from '../../scripts/dev-server.js';
import { BUNDLE_OPTIONS } from '../../worker/create-worker.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalUiUrl: string;
    workflowBundlePath: string;
  }
}

let server: DevServer | undefined;
let codec: CodecServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  // The UI decodes payloads through a codec server, as `npm run server` sets it up.
  const uiPort = await freePort();
  codec = await startCodecServer({
    codecs: payloadCodecs(codecSettingsFromEnv()),
    port: 0,
    allowedOrigins: [`http://localhost:${uiPort}`, `http://127.0.0.1:${uiPort}`],
  });
  server = await startDevServer({ uiPort, codecEndpoint: codec.url, log: (l) => console.log(l) });
  const { code } = await bundleWorkflowCode({ ...BUNDLE_OPTIONS, logger: quietLogger });
  const dir = fileURLToPath(new URL('../../.artifacts/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const bundlePath = `${dir}workflow-bundle.js`;
  writeFileSync(bundlePath, code);
  project.provide('temporalAddress', server.address);
  project.provide('temporalUiUrl', server.uiUrl ?? '');
  project.provide('workflowBundlePath', bundlePath);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  await codec?.close();
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m), log: noop };

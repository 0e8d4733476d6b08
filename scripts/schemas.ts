/**
 * `npm run schemas`: the run's contract as JSON Schema files (`contract/schemas/`), generated from
 * the TypeScript types in `contract/`, for clients in other languages: what to send to start a
 * run, what a run returns (also the details of a failed run's failure), what the `state` query
 * answers, the `cancel` signal's argument, and the model call's heartbeat progress.
 * `test/unit/schemas.test.ts` regenerates them and fails if the committed files differ.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Schema file name → the TypeScript type it describes, and where it is defined. */
export const CONTRACT_SCHEMAS: Record<string, { type: string; path: string; description: string }> = {
  'run-input': { type: 'RunInput', path: 'contract/run.ts', description: 'The input of the agentRun workflow (one argument).' },
  'run-result': {
    type: 'RunResult',
    path: 'contract/run.ts',
    description: "The result of the agentRun workflow; also the first detail of a failed run's ApplicationFailure (type AgentRunFailed).",
  },
  'run-state': { type: 'RunState', path: 'contract/run.ts', description: 'The answer of the `state` query.' },
  'cancel-args': { type: 'CancelArgs', path: 'contract/workflow.ts', description: 'The argument of the `cancel` signal (optional).' },
  'model-progress': {
    type: 'ModelProgress',
    path: 'contract/activities.ts',
    description: 'The heartbeat details of the callModel activity (what `watch` shows while the model streams).',
  },
};

/** Every schema, as the text of its file. */
export function contractSchemas(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, { type, path, description }] of Object.entries(CONTRACT_SCHEMAS)) {
    const generator = createGenerator({
      path: `${ROOT}${path}`,
      tsconfig: `${ROOT}tsconfig.json`,
      type,
      skipTypeCheck: true,
      additionalProperties: true,
    });
    const schema = { $id: `https://agent-runner.dev/schemas/${name}.schema.json`, description, ...generator.createSchema(type) };
    out[name] = `${JSON.stringify(schema, null, 2)}\n`;
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [name, text] of Object.entries(contractSchemas())) {
    writeFileSync(`${ROOT}contract/schemas/${name}.schema.json`, text);
    console.log(`contract/schemas/${name}.schema.json (${(text.length / 1024).toFixed(0)} KB)`);
  }
}

/**
 * `npm run schemas`: the run's contract as JSON Schema files (`contract/schemas/`), generated from
 * the TypeScript types in `contract/`, for clients in other languages: what to send to start a
 * run, what a run returns (also the details of a failed run's failure), what the `state` query
 * answers, the `cancel` signal's argument, the updates' arguments and results (`decide`, `send`,
 * `end`, `say`, `budget`), and the model call's heartbeat progress.
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
  'decide-args': {
    type: 'DecideArgs',
    path: 'contract/workflow.ts',
    description: "The argument of the `decide` update: a person's decision on one tool call awaiting approval.",
  },
  'decide-result': { type: 'DecideResult', path: 'contract/workflow.ts', description: 'What the `decide` update answers.' },
  'send-args': {
    type: 'SendArgs',
    path: 'contract/workflow.ts',
    description: "The argument of the `send` update: a session's next user message.",
  },
  'send-result': {
    type: 'SendResult',
    path: 'contract/workflow.ts',
    description: 'What the `send` update answers, once the model has ended its turn: that exchange alone.',
  },
  'end-args': { type: 'EndArgs', path: 'contract/workflow.ts', description: 'The argument of the `end` update (ends a session).' },
  'end-result': { type: 'EndResult', path: 'contract/workflow.ts', description: 'What the `end` update answers.' },
  'say-args': {
    type: 'SayArgs',
    path: 'contract/workflow.ts',
    description: 'The argument of the `say` update: a note for a working run, delivered with its next model call.',
  },
  'say-result': { type: 'SayResult', path: 'contract/workflow.ts', description: 'What the `say` update answers.' },
  'budget-args': {
    type: 'BudgetArgs',
    path: 'contract/workflow.ts',
    description: "The argument of the `budget` update: dollars and/or tokens added to a run's limits.",
  },
  'budget-result': {
    type: 'BudgetResult',
    path: 'contract/workflow.ts',
    description: "What the `budget` update answers: the run's budget after the raise, and what it has spent.",
  },
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

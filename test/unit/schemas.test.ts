/** The JSON Schema files for other languages are generated from the TypeScript types, and match them. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { contractSchemas } from '../../scripts/schemas.js';

const DIR = fileURLToPath(new URL('../../contract/schemas/', import.meta.url));

describe('contract/schemas', () => {
  const generated = contractSchemas();
  it.each(Object.keys(generated))('%s.schema.json is what the TypeScript types say (run `npm run schemas` after changing them)', (name) => {
    expect(readFileSync(`${DIR}${name}.schema.json`, 'utf8')).toBe(generated[name]);
  });
});

/**
 * Finds a Docker Compose CLI to validate docker-compose.yml with (`docker compose`, or
 * COMPOSE_BIN, or the project's own copy in .tools/). This machine has no Docker engine, but the
 * Compose CLI parses, interpolates and validates a file without one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The project's own copy, installed by .ci/run from the Go module proxy. */
export const LOCAL_COMPOSE = fileURLToPath(new URL('../.tools/compose/cmd', import.meta.url));

/** The command (argv prefix) that runs Compose, or undefined if there is none. */
export function composeCommand(): string[] | undefined {
  const candidates: string[][] = [];
  if (process.env.COMPOSE_BIN) candidates.push([process.env.COMPOSE_BIN]);
  if (existsSync(LOCAL_COMPOSE)) candidates.push([LOCAL_COMPOSE]);
  candidates.push(['docker', 'compose'], ['docker-compose']);
  for (const c of candidates) {
    const r = spawnSync(c[0]!, [...c.slice(1), 'version'], { encoding: 'utf8', timeout: 20_000 });
    if (r.status === 0 && /compose/i.test(r.stdout)) return c;
  }
  return undefined;
}

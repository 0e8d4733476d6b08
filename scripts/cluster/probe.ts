/**
 * Is the cluster serving yet? Readiness checks through the frontend, each one failing fast with
 * the tail of a service's log when that service exits while being waited for.
 */
import { Connection } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { describeExit, type ManagedProcess } from './processes.js';

/** What the worker service logs when it has started (server 1.32: service/worker/service.go). */
const WORKER_READY = /worker service started/i;
const NOT_FOUND = 5;

/** Readiness checks through the frontend, failing fast with a log tail when a service exits. */
export class Probe {
  private connection: Connection | undefined;

  constructor(
    readonly address: string,
    private readonly namespace: string,
    private readonly services: () => ManagedProcess[],
  ) {}

  private checkAlive(): void {
    for (const p of this.services()) {
      if (p.exitStatus) {
        throw new Error(
          `the Temporal ${p.name} service exited (${describeExit(p)}); last lines of ${p.logFile}:\n  ${p.tail(12).join('\n  ')}`,
        );
      }
    }
  }

  private async conn(): Promise<Connection> {
    this.connection ??= await Connection.connect({ address: this.address, connectTimeout: 2_000 });
    return this.connection;
  }

  async close(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
  }

  /** Poll `fn` until it returns true; `what` names it in the timeout error. */
  async until(what: string, timeoutMs: number, fn: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      this.checkAlive();
      try {
        if (await fn()) return;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > deadline) {
        const tails = this.services().map((p) => `${p.name}: ${p.tail(3).join(' / ')}`);
        throw new Error(
          `${what} not ready after ${timeoutMs / 1000} s${last ? ` (${last})` : ''}; logs in ${this.services()[0]?.logFile.replace(/[^/]+$/, '')}:\n  ${tails.join('\n  ')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  frontendAnswers(timeoutMs: number): Promise<void> {
    return this.until(`the frontend at ${this.address}`, timeoutMs, async () => {
      const c = await this.conn();
      await c.withDeadline(Date.now() + 2_000, () => c.workflowService.getSystemInfo({}));
      return true;
    });
  }

  async namespaceExists(): Promise<boolean> {
    const c = await this.conn();
    try {
      await c.withDeadline(Date.now() + 5_000, () => c.workflowService.describeNamespace({ namespace: this.namespace }));
      return true;
    } catch (e) {
      if ((e as { code?: number }).code === NOT_FOUND) return false;
      throw e;
    }
  }

  /** The namespace's custom search attributes: name → IndexedValueType. */
  async searchAttributes(): Promise<Record<string, number>> {
    const c = await this.conn();
    const r = await c.withDeadline(Date.now() + 5_000, () => c.operatorService.listSearchAttributes({ namespace: this.namespace }));
    return (r.customAttributes ?? {}) as Record<string, number>;
  }

  async addSearchAttributes(searchAttributes: Record<string, number>): Promise<void> {
    const c = await this.conn();
    await c.withDeadline(Date.now() + 10_000, () => c.operatorService.addSearchAttributes({ namespace: this.namespace, searchAttributes }));
  }

  /**
   * History answers for every shard (DescribeWorkflowExecution of unknown ids reaches a shard and
   * says NOT_FOUND) and matching answers (DescribeTaskQueue).
   */
  historyAndMatchingServe(timeoutMs: number): Promise<void> {
    return this.until('the history and matching services', timeoutMs, async () => {
      const c = await this.conn();
      for (let i = 0; i < 16; i++) {
        try {
          await c.withDeadline(Date.now() + 3_000, () =>
            c.workflowService.describeWorkflowExecution({
              namespace: this.namespace,
              execution: { workflowId: `cluster-probe-${randomUUID()}` },
            }),
          );
        } catch (e) {
          if ((e as { code?: number }).code !== NOT_FOUND) throw e;
        }
      }
      await c.withDeadline(Date.now() + 3_000, () =>
        c.workflowService.describeTaskQueue({
          namespace: this.namespace,
          taskQueue: { name: `cluster-probe-${randomUUID()}` },
          taskQueueType: 1,
        }),
      );
      return true;
    });
  }

  /** The worker service logs this once its system workers run. */
  workerServiceStarted(worker: ManagedProcess, timeoutMs: number): Promise<void> {
    return this.until('the worker service', timeoutMs, async () => WORKER_READY.test(worker.logSinceStart()));
  }
}

/** Wait until `url` answers 2xx, failing fast (with its log tail) if `proc` exits first. */
export async function waitForHttp(url: string, proc: ManagedProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitStatus)
      throw new Error(`${proc.name} exited (${describeExit(proc)}); last lines of ${proc.logFile}:\n  ${proc.tail(10).join('\n  ')}`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer in ${timeoutMs / 1000} s (log ${proc.logFile})`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

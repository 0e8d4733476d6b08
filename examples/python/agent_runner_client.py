"""agent-runner from Python: start runs, query a run's state, cancel a run, read results.

The runs are Temporal workflows of type ``agentRun`` on the task queue ``agent-runner``; their
contract (input, result, state, signal argument) is published as JSON Schema in
``contract/schemas/``. Nothing here is specific to agent-runner's TypeScript code: this is the
official Temporal Python SDK (``pip install temporalio``) and that contract.

Payloads: agent-runner compresses payloads by default (``AGENT_RUNNER_COMPRESSION=on``), so a
client reads and writes them through the same codec: the serialized Payload, gzipped, in a payload
whose metadata ``encoding`` is ``binary/gzip``. ``GzipCodec`` below is that codec.

Run it (the project's README, "Clients in other languages"):
    TEMPORAL_ADDRESS=localhost:7233 python examples/python/agent_runner_client.py
It prints one JSON object: what it started, the state it queried, and both results.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import sys
import uuid
from typing import Any, Iterable

import temporalio.converter
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowFailureError
from temporalio.converter import PayloadCodec
from temporalio.exceptions import ApplicationError

WORKFLOW_TYPE = "agentRun"  # contract/workflow.ts AGENT_WORKFLOW_TYPE
STATE_QUERY = "state"  # returns contract/schemas/run-state.schema.json
CANCEL_SIGNAL = "cancel"  # argument: contract/schemas/cancel-args.schema.json
RUN_FAILED_TYPE = "AgentRunFailed"  # a failed run's failure type; details[0] is its partial result
GZIP_ENCODING = b"binary/gzip"
MIN_GZIP_BYTES = 1024  # smaller payloads are left as they are, as the TypeScript codec does (GzipCodec minBytes)


class GzipCodec(PayloadCodec):
    """agent-runner's compression codec (connection/codecs.ts GzipCodec), in Python."""

    def __init__(self, compress: bool = True) -> None:
        self.compress = compress

    async def encode(self, payloads: Iterable[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            raw = p.SerializeToString()
            packed = gzip.compress(raw) if self.compress and len(raw) >= MIN_GZIP_BYTES else None
            out.append(Payload(metadata={"encoding": GZIP_ENCODING}, data=packed) if packed and len(packed) < len(raw) else p)
        return out

    async def decode(self, payloads: Iterable[Payload]) -> list[Payload]:
        # Always decode gzip, whatever the compression setting (the TypeScript side does the same).
        out = []
        for p in payloads:
            if p.metadata.get("encoding") == GZIP_ENCODING:
                decoded = Payload()
                decoded.ParseFromString(gzip.decompress(p.data))
                out.append(decoded)
            else:
                out.append(p)
        return out


async def result_of(client: Client, workflow_id: str) -> dict[str, Any]:
    """A run's result (contract/schemas/run-result.schema.json); a failed run's partial result."""
    try:
        return await client.get_workflow_handle(workflow_id).result()
    except WorkflowFailureError as e:
        cause = e.cause
        if isinstance(cause, ApplicationError) and cause.type == RUN_FAILED_TYPE and cause.details:
            return {**cause.details[0], "status": "failed", "error": cause.message}
        raise


async def main() -> dict[str, Any]:
    compression = os.environ.get("AGENT_RUNNER_COMPRESSION", "on").strip().lower() != "off"
    client = await Client.connect(
        os.environ.get("TEMPORAL_ADDRESS", "localhost:7233"),
        namespace=os.environ.get("TEMPORAL_NAMESPACE", "default"),
        data_converter=temporalio.converter.DataConverter(payload_codec=GzipCodec(compress=compression)),
    )
    task_queue = os.environ.get("AGENT_RUNNER_TASK_QUEUE", "agent-runner")
    agent = os.environ.get("AGENT", "triage")
    suffix = uuid.uuid4().hex[:8]

    # 1. Start a run and ask for its live state. The input is contract/schemas/run-input.schema.json.
    #    (The search attributes AgentName, AgentStatus, AgentTurns, AgentTokens are optional: a run
    #    started without them sets them itself when the workers find them registered.)
    answered = await client.start_workflow(
        WORKFLOW_TYPE,
        {"agent": agent, "prompt": os.environ.get("PROMPT", "Where is my order 48810?")},
        id=f"py-{agent}-{suffix}",
        task_queue=task_queue,
    )
    state = await answered.query(STATE_QUERY)

    # 2. Start another and cancel it: the `cancel` signal (or Temporal's own cancel) ends it as
    #    `cancelled`, with a transcript in which every tool_use has its tool_result.
    cancelled = await client.start_workflow(
        WORKFLOW_TYPE,
        {"agent": agent, "prompt": os.environ.get("SECOND_PROMPT", "Where are orders 48810, 48811 and 60042?")},
        id=f"py-{agent}-cancel-{suffix}",
        task_queue=task_queue,
    )
    await cancelled.signal(CANCEL_SIGNAL, {"reason": "cancelled from Python"})

    # 3. Both results.
    first = await result_of(client, answered.id)
    second = await result_of(client, cancelled.id)
    return {
        "started": [answered.id, cancelled.id],
        "state": {"phase": state["phase"], "status": state["status"], "turn": state["turn"]},
        "results": [
            {key: run.get(key) for key in ("workflowId", "status", "stopReason", "finalText", "turns", "usage", "error")} | {"messages": len(run["messages"])}
            for run in (first, second)
        ],
    }


if __name__ == "__main__":
    try:
        print(json.dumps(asyncio.run(main())))
    except Exception as e:  # one line, as the rest of agent-runner does
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)

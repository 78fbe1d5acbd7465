"""A scheduler in Python that runs Lifeline executions with Temporal's Python SDK alone.

    python lifeline_scheduler.py run AGENT PROMPT   start one, watch it, print its result and row
    python lifeline_scheduler.py stop AGENT         start one that hangs, stop it once it runs

Settings (the environment): TEMPORAL_ADDRESS (127.0.0.1:7233), TEMPORAL_NAMESPACE (default),
LIFELINE_TASK_QUEUE (lifeline) and DATABASE_URL (Lifeline's Postgres, to read the row). Prints
one JSON line of what it saw. The contract, for any SDK: contract/execution.schema.json.
"""

import asyncio
import json
import os
import secrets
import sys
from datetime import datetime, timezone

import psycopg
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

WORKFLOW_TYPE = "agentExecution"
AGENT = SearchAttributeKey.for_keyword("LifelineAgent")
STATUS = SearchAttributeKey.for_keyword("LifelineStatus")
TRIGGER = SearchAttributeKey.for_keyword("LifelineTrigger")
TENANT = SearchAttributeKey.for_keyword("LifelineTenant")


def new_execution_id(agent: str) -> str:
    # The workflow id is the execution id: 1-200 letters, digits and . _ : @ -, starting with a letter
    # or digit. Starting the same id again never runs it twice.
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{agent}-{stamp}-{secrets.token_hex(3)}"


async def start(client: Client, agent: str, prompt: str, tenant: str = "default", **limits) -> WorkflowHandle:
    # busyPolicy (default queue), trigger (default api) and tenant (default "default") may be left
    # out; the trigger says who started it, the tenant whose share, limits and budgets it counts against.
    execution_input = {"agent": agent, "prompt": prompt, "busyPolicy": "queue", "trigger": "python", "tenant": tenant, **limits}
    return await client.start_workflow(
        WORKFLOW_TYPE,
        execution_input,
        id=new_execution_id(agent),
        task_queue=os.environ.get("LIFELINE_TASK_QUEUE", "lifeline"),
        # Set at start, so that a queued execution is found by agent, tenant and status at once.
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(AGENT, agent),
                SearchAttributePair(TENANT, tenant),
                SearchAttributePair(STATUS, "queued"),
                SearchAttributePair(TRIGGER, "python"),
            ]
        ),
    )


async def state_when(handle: WorkflowHandle, phase: str, seconds: float = 60) -> dict:
    """Polls the `state` query until the execution reaches the phase, or fails past the deadline."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        state = await handle.query("state")
        if state["phase"] == phase:
            return state
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"execution {handle.id} still {state['phase']} after {seconds} s, not {phase}")
        await asyncio.sleep(0.2)


def read_row(execution_id: str) -> dict:
    with psycopg.connect(os.environ["DATABASE_URL"]) as connection:
        status, error_kind, output = connection.execute(
            "SELECT status, error_kind, output FROM executions WHERE id = %s", (execution_id,)
        ).fetchone()
    return {"status": status, "errorKind": error_kind, "output": output}


async def main(mode: str, agent: str, prompt: str = "") -> None:
    client = await Client.connect(
        os.environ.get("TEMPORAL_ADDRESS", "127.0.0.1:7233"), namespace=os.environ.get("TEMPORAL_NAMESPACE", "default")
    )
    if mode == "run":
        handle = await start(client, agent, prompt, timeoutSeconds=300)
        state = await handle.query("state")
    elif mode == "stop":
        handle = await start(client, agent, "hang")
        state = await state_when(handle, "running")
        await handle.signal("stop", {"reason": "stopped from Python"})
    else:
        raise SystemExit(__doc__)
    result = await handle.result()
    print(json.dumps({"executionId": handle.id, "state": state, "result": result, "row": read_row(handle.id)}))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    asyncio.run(main(*sys.argv[1:4]))

"""What a Browser Use Cloud task reports at its end, as structured output (v2's ``structuredOutput``).

Cloud v2 has no tool for the agent to ask for the person, so every task gets a JSON schema in which
the agent either reports its result or says it needs the person and what they should do. A
``needs_person`` answer becomes ``RunResult.needs_person``: the core passes control to the person
exactly as for Local ``request_human``, and Hand back continues with a follow-up task.
"""

from __future__ import annotations

import json
from typing import Any

DONE = "done"
NEEDS_PERSON = "needs_person"

SCHEMA: dict[str, Any] = {
    "title": "HandoffOutcome",
    "type": "object",
    "properties": {
        "status": {
            "type": "string",
            "enum": [DONE, NEEDS_PERSON],
            "description": (
                f'"{DONE}" when the task is complete (or cannot be done). "{NEEDS_PERSON}" when a person '
                "sharing this browser must act first: a login, a 2FA code, a CAPTCHA, a payment, a choice "
                "only they can make. They will do it in this same browser and hand it back to you."
            ),
        },
        "result": {"type": "string", "description": "What you found or did: the task's answer, for the person."},
        "person_should": {
            "type": "string",
            "description": f'When status is "{NEEDS_PERSON}": exactly what the person should do now, in one or two sentences. Otherwise empty.',
        },
    },
    "required": ["status", "result", "person_should"],
    "additionalProperties": False,
}
SCHEMA_JSON = json.dumps(SCHEMA)


def read_outcome(output: str | None) -> tuple[str | None, str | None]:
    """(what to show as the task's output, what the person should do or None).

    Output that is not the schema's JSON (an older task, a provider that ignored the schema) is
    shown as it came."""
    if not output:
        return output, None
    try:
        data = json.loads(output)
    except ValueError:
        return output, None
    if not isinstance(data, dict) or data.get("status") not in (DONE, NEEDS_PERSON):
        return output, None
    result = data.get("result") if isinstance(data.get("result"), str) else ""
    if data["status"] == NEEDS_PERSON:
        ask = data.get("person_should") if isinstance(data.get("person_should"), str) else ""
        ask = ask.strip() or result.strip() or "The agent needs you to act in the browser."
        return f"Needs you: {ask}", ask
    return result.strip() or None, None

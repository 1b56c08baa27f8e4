"""Schema-driven fuzzing of every route in our OpenAPI document (schemathesis), on a real server.

Target: 0 server errors (5xx) and no traceback in any reply, whatever the generated input. The
operations are driven with plain Hypothesis (`operation.as_strategy()`): schemathesis' pytest
plugin does not run under this pytest. Examples per route are few so the suite stays fast;
`RAG_FUZZ_EXAMPLES=200` for a deeper run.
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

EXAMPLES = int(os.environ.get("RAG_FUZZ_EXAMPLES", "12"))


def test_no_route_answers_with_a_server_error(rel_url):
    schema = schemathesis.openapi.from_url(f"{rel_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    calls: list[tuple[str, int]] = []
    failures: list[str] = []
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"

        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                             derandomize=True, database=None)
        def fuzz(case) -> None:  # noqa: ANN001
            # Target: no 5xx. The generous timeout is for a shared, overloaded CI machine, not the product.
            response = case.call(base_url=rel_url, timeout=120)
            calls.append((label, response.status_code))
            if response.status_code >= 500 or "Traceback" in response.text:
                failures.append(f"{case.method} {case.formatted_path}: HTTP {response.status_code} {response.text[:300]}")

        fuzz()
    fuzzed = {label for label, _ in calls}
    assert fuzzed == {f"{op.method.upper()} {op.path}" for op in operations}
    print(f"\nschemathesis: {len(calls)} calls over {len(operations)} routes, {len(failures)} server errors")
    assert not failures, "\n".join(failures)

"""Schemathesis generates requests from the served OpenAPI document: no input may cause a server
error, and every response conforms to the document (status code, content type, headers, body schema).

Bounded in examples per operation and in time; slow, so outside the quick suite
(``-m 'not slow'``) but run by ``scripts/test`` and CI.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.web.seed import Seeded
from tests.web.server import Server

pytestmark = pytest.mark.slow
MAX_EXAMPLES = 5
MAX_SECONDS = 60
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance")


def test_no_generated_request_causes_a_server_error_or_a_nonconforming_response(
    own_server: tuple[Server, Seeded], tmp_path: Path,
) -> None:
    server, _ = own_server
    executable = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[test]')")
    token = server.token("admin")
    result = subprocess.run(
        [executable, "run", f"{server.url}/openapi.json", "-H", f"Authorization: Bearer {token}",
         "--checks", ",".join(CHECKS), "--continue-on-failure",
         "--max-examples", str(MAX_EXAMPLES), "--max-time", str(MAX_SECONDS),
         "--seed", "2026", "--no-shrink", "--workers", "2", "--request-timeout", "30",
         "--exclude-path-regex", "^/auth/logout$", "--warnings", "off"],
        check=False, capture_output=True, text=True, timeout=MAX_SECONDS * 3, cwd=tmp_path,
    )
    summary = result.stdout[-4000:]
    assert "Server error" not in result.stdout, summary
    assert "\nFailures:" not in result.stdout, result.stdout[-20000:]
    # every generated case passed; the exit code also counts schemathesis's own runtime
    # errors (a strategy it cannot draw from), which are not the server's
    counts = re.search(r"(\d+) generated, (\d+) passed", result.stdout)
    assert counts and int(counts[1]) > 100 and counts[1] == counts[2], summary

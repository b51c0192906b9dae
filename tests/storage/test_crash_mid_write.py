"""A process killed in the middle of a write leaves the register as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import sqlalchemy as sa

from mineaction.storage.register import Register

WRITER = textwrap.dedent(
    """
    import sys
    from mineaction.storage.register import Register
    from tests.common import add_organisation, hazard_values, square_m

    register = Register.open(sys.argv[1])
    with register.write("importer", "large import killed midway") as w:
        org = add_organisation(w)
        for i in range(100_000):
            w.add("hazard", hazard_values(org.id), square_m(200 * (i % 300), 200 * (i // 300), 100))
            if i == 20:
                print("writing", flush=True)
    print("committed", flush=True)
    """
)


def test_sigkill_mid_transaction_leaves_register_unchanged(register_target: str) -> None:
    with Register.open(register_target) as register:
        with register.write("alice", "before the crash") as w:
            from tests.common import add_organisation, hazard_values, square_m

            org = add_organisation(w)
            before = w.add("hazard", hazard_values(org.id), square_m(-500, -500, 100))
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, register_target],
        stdout=subprocess.PIPE, text=True, cwd=os.getcwd(),
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "writing"
    time.sleep(0.3)  # well inside the transaction: 100,000 inserts take minutes
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    with Register.open(register_target) as register:
        assert register.count("hazard") == 1
        assert register.get("hazard", before.id).version == 1
        assert register.count("organisation") == 1
        with register.engine.connect() as c:
            assert c.execute(sa.text("SELECT count(*) FROM changeset")).scalar() == 1
            if register.dialect == "sqlite":
                assert c.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
                assert c.exec_driver_sql("SELECT count(*) FROM rtree_hazard_geom").scalar() == 1
        # and the register still takes writes
        with register.write("alice", "after the crash") as w:
            w.update("hazard", before.id, base_version=1, values={"status": "worked_on"})

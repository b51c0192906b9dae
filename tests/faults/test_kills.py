"""SIGKILL a writer at random points; every time, the register is whole.

A child process writes in a loop (adds, bulk adds, updates, ledger releases,
soft deletes) and is killed with SIGKILL after a random delay: a few while it
opens the register (recovering from the previous kill), the rest while it
writes, so kills land inside transactions, during commits and checkpoints,
and between writes. After each kill the register must pass every check in
:mod:`tests.faults.checks`: integrity and spatial indexes, history equal to
current, ledger invariants, every acknowledged commit present and the one in
flight whole or absent.

The default run does ``MINEACTION_FAULT_KILLS`` kills in total over both
backends (100); set it to 1000 for the long run.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

from mineaction.storage.register import Register
from tests.common import add_organisation
from tests.faults.checks import WriterLog, check_all
from tests.faults.worker import ForkServer

TOTAL_KILLS = int(os.environ.get("MINEACTION_FAULT_KILLS", "100"))
WHILE_OPENING = 0.1  # share of kills aimed at the writer's start (open, WAL recovery)
MAX_DELAY_S = 0.4


def _wait_until_open(log: Path, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not (log.exists() and log.stat().st_size):
        assert time.monotonic() < deadline, f"writer did not open the register: {log}.err"
        time.sleep(0.005)


def test_sigkill_at_random_points_leaves_a_whole_register(
    register_target: str, backend: str, fork_server: ForkServer, tmp_path: Path
) -> None:
    kills = TOTAL_KILLS // 2
    rng = random.Random(f"kills-{backend}")
    log = WriterLog()
    with Register.open(register_target) as register:
        with register.write("fault.test", "organisation for the writers") as w:
            add_organisation(w)
        for k in range(kills):
            path = tmp_path / f"writer-{k}.log"
            pid = fork_server.start("write_loop", path, target=register_target, seed=k)
            if rng.random() >= WHILE_OPENING:
                _wait_until_open(path)
            time.sleep(rng.uniform(0.0, MAX_DELAY_S))
            os.kill(pid, signal.SIGKILL)
            status = fork_server.wait(pid)
            assert status == -signal.SIGKILL, Path(f"{path}.err").read_text()
            log.add(path)
            check_all(register, log)
    print(
        f"\n{backend}: {kills} SIGKILLs, 0 corrupt or partial states; killed {dict(log.kill_points)}; "
        f"{len(log.acked)} acknowledged commits all present; {log.refused} refused writes rolled back"
    )
    assert sum(log.kill_points.values()) == kills
    assert log.kill_points["in a transaction"] > kills // 4  # the kills did hit writes

"""Regression tests for two engine faults found while building erasure (storage/engine.py).

* ``set_redacting`` kept its switch in a ``WeakKeyDictionary`` keyed by
  ``sqlite3.Connection``, which cannot be weakly referenced: every call
  raised ``TypeError``, so no connection could ever erase personal data.
* SQLAlchemy quoted statement parameters in its error messages and logs, so
  a failed write's traceback (chained under the StorageError) carried a
  victim's name into whatever logged it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import traceback

import pytest
import sqlalchemy as sa

from mineaction.errors import StorageError
from mineaction.storage.engine import set_redacting
from mineaction.storage.register import Register
from tests.common import add_organisation, square_m
from tests.faults.canary import Canary
from tests.faults.io_faults import driver_error, failing_statement


def test_set_redacting_lets_one_connection_rewrite_history(gpkg_register: Register) -> None:
    with gpkg_register.write("test", "an organisation") as w:
        add_organisation(w)
    rewrite = "UPDATE organisation_history SET acronym = 'X'"
    with gpkg_register.engine.connect() as allowed, gpkg_register.engine.connect() as other:
        set_redacting(allowed.connection.dbapi_connection, True)
        try:
            with allowed.begin():
                assert allowed.exec_driver_sql(rewrite).rowcount == 1
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), other.begin():
                other.exec_driver_sql(rewrite)
        finally:
            set_redacting(allowed.connection.dbapi_connection, False)
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), allowed.begin():
            allowed.exec_driver_sql(rewrite)


def test_a_failed_write_never_puts_personal_data_in_error_text(register: Register) -> None:
    canary = Canary.new()
    with register.write("im.officer", "accident report") as w:
        org = add_organisation(w)
        accident = w.add("accident", {"occurred_on": dt.date(2025, 5, 2), "accident_type": "mine",
                                      "organisation_id": org.id}, square_m(50, 50, 10).centroid)
    values = canary.plant("victim", {"accident_id": accident.id, "sex": "male", "victim_group": "civilian",
                                     "outcome": "killed"})
    texts = []
    for n in itertools.count(1):  # every statement of the write, the victim's insert included
        try:
            with failing_statement(register, n, driver_error), register.write("im.officer", "a victim") as w:
                w.add("victim", values)
        except StorageError as exc:
            texts.append("".join(traceback.format_exception(exc)))
            continue
        break
    assert any(re.search(r'INSERT INTO "?victim\b', text) for text in texts)  # it did fail at the insert
    canary.assert_absent(*texts)

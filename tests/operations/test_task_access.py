"""Who plans, moves and works a task: the party comes from the grants, the plan is the authority's."""

from __future__ import annotations

import pytest

from mineaction.access import AccessDenied, Grant, Principal, Role, policy
from mineaction.domain.entities import ENTITIES

AUTHORITY = Principal("n", "nmac", (Grant(None, Role.REVIEWER),))
OPERATOR = Principal("a", "alpha", (Grant("org-a", Role.REVIEWER),))
VIEWER = Principal("v", "viewer", (Grant("org-a", Role.VIEWER),))


def test_the_party_is_the_authority_only_with_a_programme_wide_grant() -> None:
    assert policy.task_party(AUTHORITY) == "authority"
    assert policy.task_party(OPERATOR) == policy.task_party(VIEWER) == "operator"
    assert policy.task_party(Principal("r", "regional", (Grant(None, Role.REVIEWER, region="UA63"),))) == "operator"


def test_the_plan_is_the_authoritys_and_the_work_the_operators() -> None:
    task = ENTITIES["task"]
    policy.check_may_edit(AUTHORITY, task, "org-a")
    with pytest.raises(AccessDenied, match="planned by the national authority"):
        policy.check_may_edit(OPERATOR, task, "org-a")  # direct edits and review-queue approvals alike
    policy.check_may_work_task(OPERATOR, "org-a")
    policy.check_may_work_task(AUTHORITY, "org-a")
    for principal, owner in ((OPERATOR, "org-b"), (VIEWER, "org-a")):
        with pytest.raises(AccessDenied):
            policy.check_may_work_task(principal, owner)

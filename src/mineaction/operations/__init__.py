"""Operations services: tasks from priority to team to closure, their progress and status.

Thin over access (who may see and move a task) and the domain's rules
(:mod:`mineaction.domain.operations`); the CLI's ``mineaction task`` and the
REST API's ``/api/v1/tasks`` both call :mod:`mineaction.operations.tasks`.
"""

"""State machines of operational records: tasks, non-conformities, residual-contamination reviews.

One small engine for all three, so each record's life is a table of legal
transitions (who may make each, whether it needs a reason) and every refusal
reads the same: it names the current state and the states that may follow,
with who may move there. The history of a record is a list of
:class:`StateChange` (who, when, why); :meth:`StateMachine.replay` checks a
whole history, so storage can refuse a history that never could have happened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from mineaction.domain.operations.vocabularies import VOCABULARIES, check_code
from mineaction.errors import ConflictError, InvalidValue

__all__ = ["PartyNotAllowed", "StateChange", "StateMachine", "Transition", "TransitionNotAllowed"]


class TransitionNotAllowed(ConflictError):
    """The record cannot move from its current state to the one asked for."""

    def __init__(self, message: str, *, current: str, target: str, allowed: Mapping[str, frozenset[str]]) -> None:
        super().__init__(message)
        self.current = current
        self.target = target
        self.allowed = dict(allowed)


class PartyNotAllowed(TransitionNotAllowed, PermissionError):
    """The transition exists, but this party may not make it (403 at the web boundary)."""


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    parties: frozenset[str]
    reason_required: bool = False


@dataclass(frozen=True)
class StateChange:
    """One versioned change of state: from, to, by which party and user, when and why."""

    source: str
    target: str
    party: str
    user: str
    at: dt.datetime
    reason: str = ""


def _describe(allowed: Mapping[str, frozenset[str]]) -> str:
    if not allowed:
        return "none: it is final"
    return ", ".join(f"{state} (by {' or '.join(sorted(parties))})" for state, parties in allowed.items())


class StateMachine:
    """Legal transitions of one kind of record.

    Parameters
    ----------
    record : str
        What the record is called in messages ("task", "non-conformity").
    vocabulary : str
        The vocabulary of its states (see :mod:`.vocabularies`).
    transitions : iterable of Transition
    vocabularies : mapping, optional
        Where ``vocabulary`` and ``parties`` are looked up; operations' own lists unless given.
    parties : str
        The vocabulary of who may make a transition.
    """

    def __init__(
        self, record: str, vocabulary: str, transitions: Iterable[Transition],
        vocabularies: Mapping[str, Mapping[str, tuple[str, str]]] = VOCABULARIES, parties: str = "party",
    ) -> None:
        self.record = record
        self.vocabulary = vocabulary
        self.vocabularies = vocabularies
        self.parties = parties
        self.transitions: dict[tuple[str, str], Transition] = {}
        for t in transitions:
            for state in (t.source, t.target):
                check_code(vocabulary, state, vocabularies=vocabularies)
            for party in t.parties:
                check_code(parties, party, vocabularies=vocabularies)
            self.transitions[t.source, t.target] = t

    @property
    def states(self) -> tuple[str, ...]:
        return tuple(self.vocabularies[self.vocabulary])

    def allowed(self, current: str) -> dict[str, frozenset[str]]:
        """Next states from ``current``, each with the parties that may move there."""
        check_code(self.vocabulary, current, where=f"{self.record} state", vocabularies=self.vocabularies)
        return {t.target: t.parties for (source, _), t in self.transitions.items() if source == current}

    def check(self, current: str, target: str, party: str, *, reason: str = "") -> Transition:
        """The transition ``current → target`` by ``party``, or the domain error saying why not.

        Raises
        ------
        InvalidValue
            Unknown state or party, or a missing reason where one is required.
        TransitionNotAllowed
            No such transition; the message names the allowed next states.
        PartyNotAllowed
            The transition exists but ``party`` may not make it.
        """
        check_code(self.vocabulary, target, where=f"{self.record} state", vocabularies=self.vocabularies)
        check_code(self.parties, party, where="party", vocabularies=self.vocabularies)
        allowed = self.allowed(current)
        t = self.transitions.get((current, target))
        if t is None:
            raise TransitionNotAllowed(
                f"a {self.record} cannot go from {current} to {target}; allowed next states: {_describe(allowed)}",
                current=current, target=target, allowed=allowed,
            )
        if party not in t.parties:
            raise PartyNotAllowed(
                f"only the {' or '.join(sorted(t.parties))} may move a {self.record} from {current} to {target}",
                current=current, target=target, allowed=allowed,
            )
        if t.reason_required and not reason.strip():
            raise InvalidValue(f"moving a {self.record} from {current} to {target} needs a reason")
        return t

    def replay(self, initial: str, changes: Sequence[StateChange]) -> str:
        """Check a whole history in order and return the state it ends in.

        Each change must start where the previous one ended, be legal for its
        party and not go back in time.
        """
        state = check_code(self.vocabulary, initial, where=f"{self.record} state", vocabularies=self.vocabularies)
        previous: dt.datetime | None = None
        for i, change in enumerate(changes):
            if change.source != state:
                raise ConflictError(
                    f"{self.record} history, change {i + 1}: starts from {change.source} but the {self.record} "
                    f"was {state}"
                )
            if previous is not None and change.at < previous:
                raise InvalidValue(f"{self.record} history, change {i + 1}: dated before the change it follows")
            self.check(change.source, change.target, change.party, reason=change.reason)
            state, previous = change.target, change.at
        return state

"""The one state-machine helper: an explicit transition table and the ``stateChange`` history it writes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lso.mef.dates import now_iso
from lso.mef.errors import MefError


class StateMachine:
    """The allowed transitions of a MEF resource, e.g. productOrder ``acknowledged → inProgress``."""

    def __init__(self, name: str, transitions: Mapping[str, Iterable[str]]) -> None:
        self.name = name
        self.transitions = {state: frozenset(targets) for state, targets in transitions.items()}

    def can(self, current: str, target: str) -> bool:
        return target in self.transitions.get(current, frozenset())

    def is_final(self, state: str) -> bool:
        return not self.transitions.get(state)

    def move(
        self,
        doc: dict[str, Any],
        target: str,
        *,
        history: str | None = "stateChange",
        reason: str | None = None,
    ) -> bool:
        """Set ``doc['state']`` to ``target``; False (and nothing changed) when it is already there.

        Re-applying the current state is a no-op so that a retried step never writes twice; any other
        transition not in the table is a 409.
        """
        current = doc.get("state")
        if current == target:
            return False
        if current is not None and not self.can(current, target):
            raise MefError(409, f"{self.name} cannot go from {current} to {target}", code="conflict")
        doc["state"] = target
        if history:
            change: dict[str, Any] = {"changeDate": now_iso(), "state": target}
            if reason:
                change["changeReason"] = reason
            doc.setdefault(history, []).append(change)
        return True

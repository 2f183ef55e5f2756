"""The one state-machine helper."""

from __future__ import annotations

import pytest

from lso.mef.errors import MefError
from lso.mef.statemachine import StateMachine

ORDER = StateMachine(
    "productOrder",
    {"acknowledged": {"inProgress", "rejected"}, "inProgress": {"completed", "failed"}, "completed": set()},
)


def test_moves_along_the_table_and_records_history() -> None:
    doc: dict[str, object] = {"state": "acknowledged"}
    assert ORDER.move(doc, "inProgress", reason="accepted")
    assert ORDER.move(doc, "completed")
    history = doc["stateChange"]
    assert isinstance(history, list)
    assert [c["state"] for c in history] == ["inProgress", "completed"]
    assert history[0]["changeReason"] == "accepted" and history[0]["changeDate"].endswith("Z")
    assert ORDER.is_final("completed") and not ORDER.is_final("inProgress")


def test_reapplying_the_current_state_changes_nothing() -> None:
    doc: dict[str, object] = {"state": "inProgress"}
    assert not ORDER.move(doc, "inProgress")
    assert "stateChange" not in doc


def test_a_transition_not_in_the_table_is_a_conflict() -> None:
    doc = {"state": "completed"}
    with pytest.raises(MefError) as error:
        ORDER.move(doc, "inProgress")
    assert error.value.status == 409 and doc["state"] == "completed"

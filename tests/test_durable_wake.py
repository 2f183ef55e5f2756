"""A durable wait (DBOS.recv) on the embedded SQLite system database wakes when its message is sent, not at
DBOS's next poll: the domain sets the waiter's event right after the send commits."""

from __future__ import annotations

from typing import Any

from dbos._sys_db import SendMessage, ThreadSafeEventDict, _dbos_null_topic
from dbos._utils import LoopAwareEvent

from lso.domain import wake_local_receivers


class _SystemDatabase:
    """The three things of DBOS's system database the wake uses, as DBOS defines them."""

    def __init__(self) -> None:
        self.notifications_map = ThreadSafeEventDict()
        self.sent: list[SendMessage] = []

    def send_bulk(self, messages: list[SendMessage], **_kwargs: Any) -> None:
        self.sent.extend(messages)

    def _waiter(self, workflow_id: str, name: str) -> tuple[str, tuple[str, str, None]]:
        return f"{workflow_id}::{name}", (workflow_id, name, None)


def _waiting(sys_db: _SystemDatabase, workflow_id: str, topic: str) -> LoopAwareEvent:
    event = LoopAwareEvent()
    key, components = sys_db._waiter(workflow_id, topic)
    sys_db.notifications_map.add(key, event, components)
    return event


def test_a_send_wakes_the_receiver_of_its_workflow_and_topic_only() -> None:
    sys_db = _SystemDatabase()
    wake_local_receivers(sys_db)
    order, other_topic, other_workflow = (
        _waiting(sys_db, "wf-1", "wake"),
        _waiting(sys_db, "wf-1", "tca"),
        _waiting(sys_db, "wf-2", "wake"),
    )

    sys_db.send_bulk([SendMessage("wf-1", "completed", "wake")], function_name="DBOS.send")

    assert [m.message for m in sys_db.sent] == ["completed"]  # the message is still sent
    assert order.is_set()
    assert not other_topic.is_set() and not other_workflow.is_set()


def test_a_message_without_topic_wakes_the_receiver_of_no_topic() -> None:
    sys_db = _SystemDatabase()
    wake_local_receivers(sys_db)
    waiting = _waiting(sys_db, "wf-1", _dbos_null_topic)

    sys_db.send_bulk([SendMessage("wf-1", "x")], function_name="DBOS.send")

    assert waiting.is_set()

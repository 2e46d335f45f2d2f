"""Reply targets: how long a customer who wrote last may wait for an agent's answer before
the agent's work list shows the conversation as near (amber) or late (red).

Theory of operation:
- a queue's target for a channel is its own (``queues[].reply_target_s``: one number for
  every channel, or a number per channel), otherwise the channel's default below;
- voice has none: a call is answered live, never replied to;
- this is not ``sla_s``: the service level counts the wait in the queue until an agent
  accepts the contact, once per contact; a reply target runs again every time the customer
  writes and waits for an answer, so it differs by channel (a chat minute, an email's hours).
Pure: the console colours the wait (agent_console/static/reply_sla.js) from the target each
work item carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.model import Channel

DEFAULT_REPLY_TARGET_S: Mapping[Channel, float] = {
    Channel.WEBCHAT: 60.0,
    Channel.SMS: 5 * 60.0,
    Channel.EMAIL: 4 * 3600.0,
}
REPLIED_CHANNELS = tuple(DEFAULT_REPLY_TARGET_S)


@dataclass(frozen=True, slots=True)
class ReplyTargets:
    by_queue: Mapping[str, Mapping[Channel, float]] = field(default_factory=dict)

    def target_s(self, queue: str, channel: Channel) -> float | None:
        """Seconds a customer of ``queue`` on ``channel`` may wait for a reply (None: no
        target, e.g. a call)."""
        own = self.by_queue.get(queue, {})
        return own.get(channel, DEFAULT_REPLY_TARGET_S.get(channel))

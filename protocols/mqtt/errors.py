"""Errors of the MQTT contract: every one names the field (or the topic) at fault."""

from __future__ import annotations


class MessageError(ValueError):
    """A payload (or topic) that breaks contract v1.

    `field` is a path like `grain[3].temps_c[2]` (0-based list indices, as in the JSON), or
    None when the problem is the payload as a whole. `problems` holds every (field, reason)
    found; `reason`/`field` are the first of them.
    """

    def __init__(
        self,
        reason: str,
        field: str | None = None,
        problems: list[tuple[str | None, str]] | None = None,
    ) -> None:
        self.reason = reason
        self.field = field
        self.problems = problems or [(field, reason)]
        super().__init__(self._text())

    def _text(self) -> str:
        first = f"{self.field}: {self.reason}" if self.field else self.reason
        more = len(self.problems) - 1
        return f"{first}（另有 {more} 处问题）" if more else first

    def __reduce__(self):
        return (type(self), (self.reason, self.field, self.problems))


class TopicError(MessageError):
    """A topic that is not one of contract v1."""

"""Errors of the calculation itself (the inputs were well-formed files but cannot be computed)."""
from __future__ import annotations


class EngineError(Exception):
    """The campaign cannot be computed; carries one message per problem (naming the groupement or year)."""

    def __init__(self, messages: list[str]):
        self.messages = list(messages)
        super().__init__("\n".join(self.messages))

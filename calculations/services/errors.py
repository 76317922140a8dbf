"""What the services raise when they refuse an action, and the role check they all start with."""

from __future__ import annotations


class ActionRefused(Exception):
    """An action was refused; `messages` gives every reason, in French, ready to show."""

    def __init__(self, messages: str | list[str]):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))


def require_permission(actor, permission: str, action: str, *, denied: type[ActionRefused]) -> None:
    """Raise `denied` unless `actor` is active and has the role permission `permission`."""
    if actor is None or not getattr(actor, "is_active", False) or not actor.has_perm(permission):
        raise denied(f"Droit insuffisant pour {action}.")

"""The one way the services refuse an action, and the one role check they start with."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


class ActionRefused(Exception):
    """An action was refused; `messages` gives every reason, in French, ready to show."""

    def __init__(self, messages: str | list[str]):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))


class PermissionRefused(ActionRefused, PermissionDenied):
    """The actor lacks the role permission for the action (a view turns it into a 403)."""


def require_permission(
    actor, permission: str, action: str, *, refusal: type[PermissionRefused] = PermissionRefused
) -> None:
    """Raise `refusal` unless `actor` (a user, or a system actor with `has_perm`) is active and holds `permission`.

    `action` completes the sentence « Droit insuffisant pour … » (e.g. « déposer un fichier national »).
    """
    if actor is None or not getattr(actor, "is_active", False) or not actor.has_perm(permission):
        raise refusal(f"Droit insuffisant pour {action}.")

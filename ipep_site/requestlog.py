"""Structured logs: one JSON line per request, and a request id on every line logged while serving it,
including the lines of the Celery tasks it launched.

The id is the proxy's X-Request-ID (nginx sets it to `$request_id`) when the connection comes from one
of IPEP_TRUSTED_PROXIES and the value looks like an id, else a new one; the response carries it back.
Tasks published while a request is served carry it in a message header (`request_id`); the worker
puts it back in place while the task runs (Celery signals, connected in ipep_site.celery).
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

REQUEST_ID_HEADER = "X-Request-ID"
TASK_HEADER = "request_id"
# What a proxy's id may look like: nginx's 32 hex digits, a UUID, any short token; never free text.
ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")

current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
request_logger = logging.getLogger("ipep.request")


class RequestIdFilter(logging.Filter):
    """Gives every record the request id being served (None outside a request or a task it launched)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


def incoming_request_id(request) -> str:
    from ipep_site.lockout import from_trusted_proxy  # django-axes' models: not while Celery's app is imported

    proposed = request.headers.get(REQUEST_ID_HEADER, "")
    if proposed and from_trusted_proxy(request) and ACCEPTED_ID.fullmatch(proposed):
        return proposed
    return uuid.uuid4().hex


class RequestLogMiddleware:
    """First of the middleware: times the whole request and writes its line once the response is known."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request_id = incoming_request_id(request)
        token = current_request_id.set(request_id)
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            request_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                status,
                extra={
                    "request_id": request_id,
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user_id": _user_id(request),
                },
            )
            current_request_id.reset(token)


def _user_id(request) -> int | None:
    user = getattr(request, "user", None)  # absent for static files, answered before authentication
    return user.pk if user is not None and user.is_authenticated else None


# --- Celery: the id travels in the task's message headers ------------------------------------------


def add_request_id_header(headers=None, **kwargs) -> None:
    """before_task_publish: the request being served (or the task being run) launched this task."""
    request_id = current_request_id.get()
    if request_id is not None and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


_task_tokens: dict[str, contextvars.Token] = {}


def enter_task(task_id=None, task=None, **kwargs) -> None:
    """task_prerun: the worker logs the task's lines under the id of the request that launched it."""
    request_id = getattr(task.request, TASK_HEADER, None) if task is not None else None
    # An eager task (no message) runs inside the request itself: it keeps its id.
    request_id = request_id or current_request_id.get()
    _task_tokens[task_id] = current_request_id.set(request_id)


def leave_task(task_id=None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        current_request_id.reset(token)

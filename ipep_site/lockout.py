"""Login lock-out of the portal and the admin, by django-axes (settings `AXES_*`, README).

The failure counters are django-axes' `AccessAttempt` rows in the database, so every web process and
every server shares them: no per-process cache to spread guesses over.

Two limits, both over the last IPEP_LOGIN_LOCKOUT_SECONDS:
- one account from one address (IPEP_LOGIN_MAX_FAILURES): locks that pair only, so a guesser neither
  locks the owner out from elsewhere nor the colleagues who share the address;
- one address whatever the accounts (IPEP_LOGIN_MAX_FAILURES_PER_ADDRESS), well above the first: it
  ends a password spray, and locks everyone behind that address, hence the far higher limit.

The client's address is the connection's (REMOTE_ADDR) unless the connection comes from one of the
reverse proxies listed in IPEP_TRUSTED_PROXIES: only then is X-Forwarded-For believed, read from the
right up to the first address that is not a trusted proxy (the one our outermost proxy saw). A client
that writes the header itself without going through a listed proxy is not believed, so a proxy setting
with no proxy in front cannot be used to change address at every attempt.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_lockout_message
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Sum
from django.http import HttpResponse

LOCKED_OUT_STATUS = 429


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address) -> bool:
    return address is not None and any(
        address in network for network in _networks(tuple(settings.IPEP_TRUSTED_PROXIES))
    )


def from_trusted_proxy(request) -> bool:
    """Whether the connection comes from one of IPEP_TRUSTED_PROXIES, whose headers may be believed."""
    return _trusted(_parse(request.META.get("REMOTE_ADDR") or ""))


def client_address(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the address the lock-out counts failures against (module docstring)."""
    remote = request.META.get("REMOTE_ADDR") or None
    if not from_trusted_proxy(request):
        return remote
    # Written by our proxies from the right; anything left of the first untrusted entry came from the client.
    for entry in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _parse(entry)
        if address is None:
            return remote  # not an address our proxy wrote: count against the proxy rather than guess
        if not _trusted(address):
            return str(address)
    return remote


class AccountThenAddressHandler(AxesDatabaseHandler):
    """AXES_HANDLER: django-axes' database handler (AXES_LOCKOUT_PARAMETERS is the pair account +
    address, limited by AXES_FAILURE_LIMIT) plus the far higher limit per address."""

    def address_failures(self, request) -> int:
        recent = AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address, attempt_time__gte=get_cool_off_threshold(request)
        )
        return recent.aggregate(total=Sum("failures_since_start"))["total"] or 0

    def address_locked(self, request) -> bool:
        return self.address_failures(request) >= settings.IPEP_LOGIN_MAX_FAILURES_PER_ADDRESS

    def is_locked(self, request, credentials=None) -> bool:
        return super().is_locked(request, credentials) or self.address_locked(request)

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or request.axes_locked_out or not self.address_locked(request):
            return
        request.axes_locked_out = True
        request.axes_credentials = credentials
        username = get_client_username(request, credentials)
        user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)


def lockout_response(request, original_response, credentials) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page itself, whose form shows the refusal
    (reports.forms.LockoutMessageMixin), answered 429; anything else gets the message alone."""
    if original_response is not None and original_response.get("Content-Type", "").startswith("text/html"):
        original_response.status_code = LOCKED_OUT_STATUS
        return original_response
    return HttpResponse(get_lockout_message(), status=LOCKED_OUT_STATUS, content_type="text/plain; charset=utf-8")

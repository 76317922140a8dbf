"""Login lock-out of the portal and the admin (ipep_site/lockout.py, django-axes): the pair account +
address locks first, the address alone far later, counters shared by every process, the client
address believed from X-Forwarded-For only on a connection from a configured proxy."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from groupements import roles
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
LOCKED = "Trop de tentatives de connexion échouées. Réessayez dans 15 minutes."


def login(client, username, password, address="10.0.0.1", **headers):
    return client.post(
        reverse("portal:login"), {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


def refused_as_locked(response) -> bool:
    return response.status_code == 429 and LOCKED in response.content.decode()


@pytest.fixture
def owner(make_user):
    return make_user(username="g001")


def test_repeated_failures_lock_the_account_from_that_address(client, owner, make_user):
    colleague = make_user(username="g002")
    for _ in range(4):
        response = login(client, owner.username, "wrong-password")
        assert response.status_code == 200 and "Trop de tentatives" not in response.content.decode()
    # The fifth failure reaches the limit: the page says so at once.
    assert refused_as_locked(login(client, owner.username, "wrong-password"))
    response = login(client, owner.username, PASSWORD)  # the right password, too late
    assert refused_as_locked(response)
    assert "_auth_user_id" not in client.session
    # The owner is not locked out from another address, and other accounts are untouched.
    assert login(client, owner.username, PASSWORD, address="10.0.0.2").status_code == 302
    client.logout()
    assert login(client, colleague.username, PASSWORD).status_code == 302


def test_a_password_spray_does_not_lock_the_accounts_behind_the_address(client, owner, make_user):
    """40 accounts tried once each from one address (a spray, or a whole office behind one NAT address):
    the colleagues behind it still log in; only the address limit, far above, stops a spray."""
    colleague = make_user(username="g002")
    for i in range(40):
        login(client, f"nobody{i}", "guess", address="10.9.9.9")
    assert login(client, owner.username, PASSWORD, address="10.9.9.9").status_code == 302
    client.logout()
    assert login(client, colleague.username, PASSWORD, address="10.9.9.9").status_code == 302


def test_spraying_many_accounts_from_one_address_is_locked(client, owner, settings):
    settings.IPEP_LOGIN_MAX_FAILURES_PER_ADDRESS = 12
    for i in range(12):
        login(client, f"nobody{i}", "guess", address="10.9.9.9")
    assert refused_as_locked(login(client, owner.username, PASSWORD, address="10.9.9.9"))
    assert login(client, owner.username, PASSWORD, address="10.9.9.10").status_code == 302


def test_the_address_limit_stays_well_above_the_account_limit(settings):
    from ipep_site.checks import address_lockout_well_above_account_lockout

    assert settings.IPEP_LOGIN_MAX_FAILURES_PER_ADDRESS >= 10 * settings.IPEP_LOGIN_MAX_FAILURES  # the defaults
    assert address_lockout_well_above_account_lockout(None) == []
    settings.IPEP_LOGIN_MAX_FAILURES_PER_ADDRESS = 30
    assert [warning.id for warning in address_lockout_well_above_account_lockout(None)] == ["ipep.W001"]


def test_success_resets_the_account_counter(client, owner):
    for _ in range(4):
        login(client, owner.username, "wrong-password")
    assert login(client, owner.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        login(client, owner.username, "wrong-password")
    assert login(client, owner.username, PASSWORD).status_code == 302


def test_an_empty_password_does_not_reset_the_account_counter(client, owner):
    """A form with no password is not a successful login: it must not clear the failures."""
    for _ in range(4):
        login(client, owner.username, "wrong-password")
    login(client, owner.username, "")
    login(client, owner.username, "wrong-password")
    response = login(client, owner.username, PASSWORD)
    assert refused_as_locked(response)
    assert "_auth_user_id" not in client.session


def test_admin_login_is_locked_too(client, make_user):
    staff = make_user(role=roles.READER)
    for _ in range(5):
        client.post(reverse("admin:login"), {"username": staff.username, "password": "nope"}, REMOTE_ADDR="10.0.0.7")
    response = client.post(
        reverse("admin:login"), {"username": staff.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.7"
    )
    assert refused_as_locked(response)
    assert 'id="login-form"' in response.content.decode()  # the admin's own login page, with the refusal


def test_the_counters_do_not_live_in_a_per_process_memory(client, owner):
    """Another web process has its own memory: emptying this one's cache must not lift a lock-out."""
    for _ in range(5):
        login(client, owner.username, "wrong-password")
    cache.clear()
    assert refused_as_locked(login(client, owner.username, PASSWORD))


@pytest.mark.postgres
@pytest.mark.skipif(not settings.USES_POSTGRES, reason="another process reaches the test database on PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_failures_counted_by_one_process_lock_the_login_in_another(client, owner):
    """Five failures made by a separate Python process lock this process's login of the same pair."""
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "client = Client()\n"
        "codes = [client.post('/connexion/', {'username': 'g001', 'password': 'wrong'}, REMOTE_ADDR='10.0.0.1')"
        ".status_code for _ in range(5)]\n"
        "print(codes)\n"
    )
    database = connection.settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipep_site.settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[200, 200, 200, 200, 429]"
    assert refused_as_locked(login(client, owner.username, PASSWORD))


def test_a_forged_forwarded_header_without_a_proxy_in_front_does_not_escape_the_lockout(client, owner, settings):
    """A proxy is configured but clients reach the site directly: a header they write is not believed."""
    settings.IPEP_TRUSTED_PROXIES = ["127.0.0.1"]
    for i in range(5):
        login(client, owner.username, "wrong-password", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    assert refused_as_locked(login(client, owner.username, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99"))


def test_through_a_trusted_proxy_the_client_cannot_forge_its_address(client, owner, settings):
    settings.IPEP_TRUSTED_PROXIES = ["127.0.0.1"]
    for i in range(5):
        login(client, owner.username, "wrong", address="127.0.0.1", HTTP_X_FORWARDED_FOR=f"6.6.6.{i}, 203.0.113.7")
    forged = "6.6.6.99, 203.0.113.7"
    assert refused_as_locked(login(client, owner.username, PASSWORD, address="127.0.0.1", HTTP_X_FORWARDED_FOR=forged))
    # Another client behind the same proxy is another address.
    response = login(client, owner.username, PASSWORD, address="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        ([], "10.0.0.1", "6.6.6.6", "10.0.0.1"),  # no proxy: a client-written header is ignored
        (["127.0.0.1"], "127.0.0.1", "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # what our proxy appended
        (["127.0.0.1"], "127.0.0.1", "", "127.0.0.1"),  # header missing: the connection's address
        (["127.0.0.1"], "198.51.100.9", "203.0.113.7", "198.51.100.9"),  # not from the proxy: header ignored
        (["127.0.0.1", "10.1.0.0/16"], "127.0.0.1", "6.6.6.6, 203.0.113.7, 10.1.1.1", "203.0.113.7"),  # two proxies
        (["127.0.0.1"], "127.0.0.1", "203.0.113.7, not-an-address", "127.0.0.1"),  # garbage: the proxy's
        (["::1"], "::1", "2001:db8::7", "2001:db8::7"),
    ],
)
def test_client_address_trusts_the_header_only_from_the_configured_proxies(
    rf, settings, proxies, remote, forwarded, expected
):
    from ipep_site.lockout import client_address

    settings.IPEP_TRUSTED_PROXIES = proxies
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_a_number_of_proxies_is_refused_at_start_up():
    """The setting used to be a count; a count left in the environment must not start the site."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IPEP_")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env={**environment, "IPEP_TRUSTED_PROXIES": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "IPEP_TRUSTED_PROXIES" in result.stderr and "pas leur nombre" in result.stderr

"""deploy/: the systemd units, the environment file, the nginx site and compose.yaml start the right
commands with the right settings (read as systemd, nginx and compose would; none of them is run here)."""

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
UNITS = ("ipep-web", "ipep-worker", "ipep-beat")


def read_unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=True, empty_lines_in_values=False)
    unit.optionxform = str  # systemd's keys are case-sensitive
    unit.read_string((DEPLOY / "systemd" / f"{name}.service").read_text())
    return unit


def command_after_venv(exec_start: str) -> list[str]:
    """ExecStart's program relative to the virtualenv and its arguments: `gunicorn ipep_site.wsgi`."""
    program, *arguments = shlex.split(exec_start)
    assert program.startswith("/srv/ipep/.venv/bin/"), exec_start
    return [program.removeprefix("/srv/ipep/.venv/bin/"), *arguments]


def environment_example() -> dict[str, str]:
    lines = (DEPLOY / "ipep.env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return dict(pairs)


@pytest.mark.parametrize("name", UNITS)
def test_every_unit_runs_as_ipep_from_the_project_with_the_environment_file(name):
    unit = read_unit(name)
    assert set(unit.sections()) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    assert (service["User"], service["Group"]) == ("ipep", "ipep")
    # gunicorn reads ./gunicorn.conf.py and Celery imports ipep_site from the working directory.
    assert service["WorkingDirectory"] == "/srv/ipep"
    assert service["EnvironmentFile"] == "/etc/ipep/ipep.env"
    assert service["ProtectSystem"] == "strict" and service["ReadWritePaths"] == "/var/lib/ipep"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert "redis-server.service" in unit["Unit"]["After"]


def test_web_unit_starts_gunicorn_on_the_wsgi_application_with_its_config_file():
    unit = read_unit("ipep-web")
    assert command_after_venv(unit["Service"]["ExecStart"]) == ["gunicorn", "ipep_site.wsgi"]
    assert unit["Service"]["ExecReload"] == "/bin/kill -s HUP $MAINPID"  # gunicorn's graceful reload
    assert (REPO / "gunicorn.conf.py").is_file()


def test_worker_is_restarted_whatever_ends_it_and_beat_runs_the_schedule():
    worker, beat = read_unit("ipep-worker"), read_unit("ipep-beat")
    assert command_after_venv(worker["Service"]["ExecStart"])[:4] == ["celery", "-A", "ipep_site", "worker"]
    assert command_after_venv(beat["Service"]["ExecStart"])[:4] == ["celery", "-A", "ipep_site", "beat"]
    for unit in (worker, beat):
        assert unit["Service"]["Restart"] == "always"
        # systemd reads the start limit in [Unit]: 0 = no limit, a crash loop never leaves it stopped.
        assert unit["Unit"]["StartLimitIntervalSec"] == "0"
        assert "StartLimitIntervalSec" not in unit["Service"]
    # A warm shutdown: the running task finishes or goes back to the queue before systemd kills it.
    assert worker["Service"]["KillSignal"] == "SIGTERM" and int(worker["Service"]["TimeoutStopSec"]) >= 60
    assert "/var/lib/ipep/" in beat["Service"]["ExecStart"]  # its schedule file where it may write


def test_gunicorn_settings_come_from_the_environment_file():
    from gunicorn.config import Config

    environment = environment_example()
    code = (
        "import runpy, json; c = runpy.run_path('gunicorn.conf.py');"
        "print(json.dumps({k: c[k] for k in ('bind', 'workers', 'timeout', 'forwarded_allow_ips')}))"
    )
    printed = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env={**os.environ, **environment}, capture_output=True, text=True
    )
    settings = yaml.safe_load(printed.stdout)
    assert settings["bind"] == environment["GUNICORN_BIND"] == "127.0.0.1:8000"
    assert settings["workers"] == int(environment["GUNICORN_WORKERS"])
    # nginx waits as long as gunicorn lets a request run (a 2 GB upload being stored).
    assert settings["timeout"] == int(environment["GUNICORN_TIMEOUT"]) == nginx_seconds("proxy_read_timeout")
    assert settings["forwarded_allow_ips"] == "127.0.0.1"
    assert set(settings) <= set(Config().settings)


def test_environment_example_sets_only_variables_the_project_reads_and_passes_the_deploy_check(tmp_path):
    environment = environment_example()
    read = (REPO / "ipep_site" / "settings.py").read_text() + (REPO / "gunicorn.conf.py").read_text()
    for name in environment:
        assert f'"{name}"' in read, f"{name} is read by nothing"
    assert environment["DJANGO_DEBUG"] == "0"
    assert environment["IPEP_TRUSTED_PROXIES"] == "127.0.0.1"  # nginx on the same host
    # The example with a real secret and local paths: Django's production check finds nothing.
    environment.update(
        DJANGO_SECRET_KEY="x7#Qv9!kLm2@Zp4$Wr8^Tn6&Hb3*Jc5(Gd1)Fs0-Ea+Yu" * 2,
        DATABASE_URL=f"sqlite:///{tmp_path / 'check.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "media"),
        STATIC_ROOT=str(tmp_path / "static"),
        IMPORT_EXPORT_TMP_DIR=str(tmp_path / "imports"),
        FILE_UPLOAD_TEMP_DIR=str(tmp_path),
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "IPEP_", "DATABASE_", "CELERY_"))}
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env={**clean, **environment},
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def nginx_text() -> str:
    return (DEPLOY / "nginx" / "ipep.conf").read_text()


def nginx_directives(name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;{{]+);", nginx_text(), re.MULTILINE)


def nginx_seconds(name: str) -> int:
    (value,) = nginx_directives(name)
    return int(value.removesuffix("s"))


def test_nginx_takes_2_gb_uploads_terminates_tls_and_proxies_to_gunicorn():
    (body,) = nginx_directives("client_max_body_size")
    assert body.endswith("m") and int(body[:-1]) * 2**20 > 2 * 10**9
    assert nginx_directives("proxy_request_buffering") == ["on"]  # a slow client never holds a worker
    assert nginx_seconds("client_body_timeout") >= 60
    assert nginx_seconds("proxy_send_timeout") >= 600
    assert "443 ssl" in nginx_text() and nginx_directives("ssl_certificate")
    assert nginx_directives("ssl_protocols") == ["TLSv1.2 TLSv1.3"]
    assert "return 301 https://$host$request_uri" in nginx_text()
    assert nginx_directives("server") == ["127.0.0.1:8000"]  # gunicorn's bind (upstream)
    assert nginx_directives("proxy_pass") == ["http://ipep_web"]
    headers = dict(value.split(None, 1) for value in nginx_directives("proxy_set_header"))
    assert headers["X-Forwarded-For"] == "$remote_addr"  # replaced, never appended to the client's
    assert headers["X-Forwarded-Proto"] == "$scheme" and headers["Host"] == "$host"
    assert re.search(r"location /media/ \{\s*return 404;", nginx_text())
    assert nginx_directives("server_tokens") == ["off", "off"]


def test_compose_runs_the_same_services_with_the_same_commands():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert services["postgres"]["image"] == "postgres:15"
    for name, unit in (("web", "ipep-web"), ("worker", "ipep-worker"), ("beat", "ipep-beat")):
        systemd_command = command_after_venv(read_unit(unit)["Service"]["ExecStart"])
        assert services[name]["command"][:4] == systemd_command[:4], name
        environment = services[name]["environment"]
        assert "@postgres:5432/ipep" in environment["DATABASE_URL"]
        assert environment["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert services[name]["env_file"] == "ipep.env"
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["worker"]["restart"] == "always"
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]  # the host's nginx in front
    assert services["web"]["environment"]["GUNICORN_BIND"] == "0.0.0.0:8000"
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "FROM python:3.11-" in dockerfile and "requirements.txt" in dockerfile and "USER ipep" in dockerfile


def test_readme_walks_a_fresh_host_through_every_deploy_file():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Production", 1)[1].split("\n## ", 1)[0]
    for needed in (
        "apt-get install",
        "postgresql",
        "redis-server",
        "nginx",
        "certbot",
        "ipep.env.example",
        "migrate",
        "collectstatic",
        "check --deploy",
        "systemctl daemon-reload && systemctl enable --now ipep-web ipep-worker ipep-beat",
        "client_max_body_size",
        "journalctl",
        "compose.yaml",
    ):
        assert needed in section, needed


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is not installed (apt-get install nginx-light)")
def test_nginx_accepts_the_site(tmp_path):
    """`nginx -t` on the site as shipped, with a self-signed certificate in place of Let's Encrypt's."""
    certificate, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=ipep.example.org"]
        + ["-keyout", str(key), "-out", str(certificate)],
        check=True,
        capture_output=True,
    )
    site = (
        nginx_text()
        .replace("/etc/letsencrypt/live/ipep.example.org/fullchain.pem", str(certificate))
        .replace("/etc/letsencrypt/live/ipep.example.org/privkey.pem", str(key))
        .replace("/var/log/nginx/", f"{tmp_path}/")
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\nhttp {{\n{site}\n}}\n"
    )
    checked = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr

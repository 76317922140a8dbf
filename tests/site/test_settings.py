"""Production settings pass Django's deployment checks; secrets come from the environment."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=environment, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_in_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="k3#J9v!qZ2x@L7m$P0w&R5t*Y8u^E1n(B4c)D6f-G9h+S2a=Q7e",
        DJANGO_ALLOWED_HOSTS="example.org",
        EMAIL_URL="smtp+tls://ipep:secret@smtp.example.org:587",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="example.org")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_the_storage_moves_to_a_bucket_by_environment_alone(s3_server):
    import boto3

    from tests.conftest import S3_CREDENTIALS, S3_REGION

    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name=S3_REGION,
        aws_access_key_id=S3_CREDENTIALS["access_key"],
        aws_secret_access_key=S3_CREDENTIALS["secret_key"],
    )
    client.create_bucket(Bucket="ipep-settings", CreateBucketConfiguration={"LocationConstraint": S3_REGION})
    script = (
        "from django.core.files.base import ContentFile; from django.core.files.storage import default_storage as s; "
        "s.save('statements/x.pdf', ContentFile(b'%PDF-')); print(type(s._wrapped).__name__, s.bucket_name)"
    )
    result = run_manage(
        "shell",
        "-c",
        script,
        IPEP_STORAGE="s3",
        IPEP_S3_ENDPOINT_URL=s3_server,
        IPEP_S3_BUCKET="ipep-settings",
        IPEP_S3_REGION=S3_REGION,
        AWS_ACCESS_KEY_ID=S3_CREDENTIALS["access_key"],
        AWS_SECRET_ACCESS_KEY=S3_CREDENTIALS["secret_key"],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["ObjectStorage", "ipep-settings"]
    assert client.get_object(Bucket="ipep-settings", Key="statements/x.pdf")["Body"].read() == b"%PDF-"
    grant = client.get_object_acl(Bucket="ipep-settings", Key="statements/x.pdf")["Grants"]
    assert all("AllUsers" not in str(g.get("Grantee", {})) for g in grant)  # private: no public grant

    refused = run_manage("check", IPEP_STORAGE="nfs")
    assert refused.returncode != 0 and "IPEP_STORAGE must be 'local' or 's3'" in refused.stderr


def test_sessions_are_read_from_the_cache_only_when_every_process_shares_it():
    script = "from django.conf import settings; print(settings.SESSION_ENGINE)"
    shared = run_manage("shell", "-c", script, CACHE_URL="redis://127.0.0.1:6379/1")
    per_process = run_manage("shell", "-c", script, CACHE_URL="locmemcache://")
    # (the last line: Django's shell first counts the objects it imports)
    assert shared.stdout.split()[-1] == "django.contrib.sessions.backends.cached_db", shared.stderr
    assert per_process.stdout.split()[-1] == "django.contrib.sessions.backends.db", per_process.stderr

"""The S3-compatible backend (django-storages) with what the project needs beyond it: streamed reads
for checksums, an `s3://` URL and options Polars opens directly, and temporary local copies removed on
exit. Imported only when IPEP_STORAGE=s3 names it (boto3 is not loaded otherwise).

The bucket stays private: objects carry no public ACL, and files reach users only through the
access-checked views, which stream the verified bytes (no bucket URL is ever handed out).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from botocore.exceptions import ClientError
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from common.storage import CHUNK_SIZE


class ObjectStorage(S3Storage):
    def key(self, name: str) -> str:
        return self._normalize_name(clean_name(name))

    def iter_chunks(self, name: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The object's bytes as they arrive (django-storages' S3File would first download it whole)."""
        try:
            body = self.bucket.Object(self.key(name)).get()["Body"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(name) from None
            raise
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def polars_source(self, name: str) -> tuple[str, dict]:
        return f"s3://{self.bucket_name}/{self.key(name)}", self.polars_storage_options()

    def polars_storage_options(self) -> dict:
        """The same endpoint, region and credentials as this storage, in object_store's terms."""
        options = {"aws_region": self.region_name or "us-east-1"}
        if self.endpoint_url:
            options["aws_endpoint_url"] = self.endpoint_url
            if self.endpoint_url.startswith("http://"):
                options["aws_allow_http"] = "true"
        if self.addressing_style == "virtual":
            options["aws_virtual_hosted_style_request"] = "true"
        credentials = self._create_session().get_credentials()
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            options["aws_access_key_id"] = frozen.access_key
            options["aws_secret_access_key"] = frozen.secret_key
            if frozen.token:
                options["aws_session_token"] = frozen.token
        return options

    @contextlib.contextmanager
    def local_path(self, name: str) -> Iterator[Path]:
        """A temporary local copy (streamed to disk), removed on exit, success or failure."""
        handle = tempfile.NamedTemporaryFile(prefix="ipep-", suffix=Path(name).suffix, delete=False)  # noqa: SIM115
        path = Path(handle.name)
        try:
            with handle:
                for chunk in self.iter_chunks(name):
                    handle.write(chunk)
            yield path
        finally:
            path.unlink(missing_ok=True)

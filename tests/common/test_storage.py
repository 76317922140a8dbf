"""common.storage: both backends (MEDIA_ROOT and a bucket of the real S3 API server) write whole files,
write a content-addressed name once, stream checksums, refuse a changed file, and leave no temporary
file behind, on success or failure."""

import hashlib
import io

import polars as pl
import pytest
from django.core.files.base import ContentFile

from common import storage as stored
from common.storage import FileIntegrityError


@pytest.fixture(params=["local", "s3"])
def backend(request, local_temp):
    """The project's storage, on the local disk or in a bucket (the same code path for both)."""
    if request.param == "local":
        request.getfixturevalue("media_root")
    else:
        request.getfixturevalue("s3_storage")
    return stored.project_storage()


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_a_content_addressed_name_is_written_once_and_a_torn_copy_is_replaced(backend, monkeypatch):
    content = b"%PDF-1.7 statement" * 1000
    assert stored.store_immutable(backend, "statements/a.pdf", ContentFile(content), sha256=sha(content)) is True
    saves = []
    real_save = type(backend._wrapped).save
    monkeypatch.setattr(
        type(backend._wrapped), "save", lambda self, *a, **k: saves.append(a) or real_save(self, *a, **k)
    )
    assert stored.store_immutable(backend, "statements/a.pdf", ContentFile(content), sha256=sha(content)) is False
    assert saves == []  # the same bytes again: nothing written
    backend.save("statements/a.pdf", ContentFile(content[:100]))  # a torn copy under the name
    assert stored.store_immutable(backend, "statements/a.pdf", ContentFile(content), sha256=sha(content)) is True
    assert b"".join(stored.iter_chunks(backend, "statements/a.pdf", chunk_size=4096)) == content


def test_checksums_are_streamed_in_chunks_and_a_changed_file_is_refused_in_french(backend):
    content = bytes(range(256)) * 40_000  # 10 MB: several chunks
    backend.save("datasets/x.parquet", ContentFile(content))
    chunks = list(stored.iter_chunks(backend, "datasets/x.parquet", chunk_size=1 << 20))
    assert len(chunks) >= 10 and max(map(len, chunks)) <= 1 << 20
    assert stored.stored_sha256(backend, "datasets/x.parquet") == sha(content)
    assert stored.integrity_problem(backend, "datasets/x.parquet", sha(content)) is None

    backend.save("datasets/x.parquet", ContentFile(content[::-1]))
    assert stored.integrity_problem(backend, "datasets/x.parquet", sha(content)) == (
        f"le fichier datasets/x.parquet ne correspond plus à son empreinte SHA-256 "
        f"(enregistrée {sha(content)[:16]}…, trouvée {sha(content[::-1])[:16]}…)"
    )
    backend.delete("datasets/x.parquet")
    assert (
        stored.integrity_problem(backend, "datasets/x.parquet", sha(content))
        == "fichier datasets/x.parquet introuvable"
    )
    assert stored.integrity_problem(backend, "", sha(content)) == "aucun fichier enregistré"


def test_verified_copy_serves_exactly_the_verified_bytes(backend, local_temp):
    content = b"%PDF-1.7 " + b"x" * 100_000
    backend.save("statements/b.pdf", ContentFile(content))
    with stored.verified_copy(backend, "statements/b.pdf", sha(content), label="Relevé G001") as copy:
        assert copy.read() == content
    backend.save("statements/b.pdf", ContentFile(b"%PDF-1.7 forged"))
    with pytest.raises(FileIntegrityError, match="Relevé G001 : le fichier statements/b.pdf ne correspond plus"):
        stored.verified_copy(backend, "statements/b.pdf", sha(content), label="Relevé G001")
    with pytest.raises(FileIntegrityError, match="Relevé G001 : fichier statements/none.pdf introuvable"):
        stored.verified_copy(backend, "statements/none.pdf", sha(content), label="Relevé G001")
    assert list(local_temp.iterdir()) == []


def test_polars_reads_a_stored_parquet_where_it_lives(backend, tmp_path, local_temp):
    frame = pl.DataFrame({"rpps_mt": ["10000000001", None, "10000000002"], "depenses_cents": [1050, 20, 7]})
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    backend.save("datasets/b.parquet", ContentFile(buffer.getvalue()))
    source, options = stored.polars_source(backend, "datasets/b.parquet")
    if options is not None:
        assert source.startswith("s3://ipep-") and options["aws_endpoint_url"].startswith("http://127.0.0.1:")
    scanned = pl.scan_parquet(source, storage_options=options)
    assert scanned.select(pl.col("depenses_cents").sum()).collect(engine="streaming").item() == 1077
    assert list(local_temp.iterdir()) == []  # read straight from the bucket: no local copy


def test_local_path_is_a_temporary_copy_removed_on_success_and_on_failure(backend, local_temp):
    backend.save("uploads/c.csv", ContentFile(b"id_patient\nP1\n"))
    with stored.local_path(backend, "uploads/c.csv") as path:
        assert path.read_bytes() == b"id_patient\nP1\n"
    with pytest.raises(RuntimeError), stored.local_path(backend, "uploads/c.csv") as path:
        raise RuntimeError("validation crashed")
    assert list(local_temp.iterdir()) == []
    assert backend.exists("uploads/c.csv")


class FailingContent(ContentFile):
    """Content whose reading fails half-way (a disk full, a dropped connection)."""

    def read(self, size=-1):
        if self.file.tell() > 0:
            raise OSError("disque plein")
        return super().read(1024)


def test_a_failed_write_leaves_nothing_under_the_name(media_root):
    storage = stored.project_storage()
    with pytest.raises(OSError, match="disque plein"):
        storage.save("statements/d.pdf", FailingContent(b"x" * 10_000))
    assert not storage.exists("statements/d.pdf")
    assert [p.name for p in (media_root / "statements").iterdir()] == []  # no temporary file either
    storage.save("statements/d.pdf", ContentFile(b"whole"))
    assert (media_root / "statements" / "d.pdf").read_bytes() == b"whole"


def test_scratch_directories_are_removed_on_failure(media_root, local_temp):
    with pytest.raises(RuntimeError), stored.scratch_directory() as scratch:
        (scratch / "rows.parquet").write_bytes(b"partial")
        raise RuntimeError("crash")
    assert not any((media_root / stored.SCRATCH_DIRECTORY).iterdir())

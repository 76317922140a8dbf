"""The storage of import files between preview and confirmation (common.importexport)."""

import os
import time

import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation

from common.importexport import ABANDONED_AFTER_SECONDS, PrivateTempStorage, private_directory


@pytest.fixture
def directory(tmp_path, settings):
    settings.IMPORT_EXPORT_TMP_DIR = str(tmp_path / "imports")
    return tmp_path / "imports"


def test_a_stored_file_is_read_back_and_removed(directory):
    storage = PrivateTempStorage(encoding="utf-8", read_mode="r")
    storage.save(b"code_groupement;annee\n")
    assert (directory / storage.name).stat().st_mode & 0o777 == 0o600
    assert PrivateTempStorage(name=storage.name, encoding="utf-8", read_mode="r").read() == "code_groupement;annee\n"
    PrivateTempStorage(name=storage.name).remove()
    assert not any(directory.iterdir())


@pytest.mark.parametrize("name", ["planted", "../imports/x", "/tmp/x", "", None, "A" * 32])
def test_only_names_the_storage_made_are_accepted(directory, name):
    with pytest.raises(SuspiciousFileOperation):
        PrivateTempStorage(name=name).read()
    with pytest.raises(SuspiciousFileOperation):
        PrivateTempStorage(name=name).remove()


def test_a_made_up_name_of_the_right_shape_is_refused_too(directory):
    with pytest.raises(SuspiciousFileOperation):
        PrivateTempStorage(name="0" * 32).read()


def test_a_directory_others_may_enter_is_refused(directory):
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)  # noqa: S103 - the insecure directory under test
    with pytest.raises(ImproperlyConfigured):
        private_directory()


def test_a_preview_never_confirmed_is_removed_a_day_later(directory):
    old = PrivateTempStorage()
    old.save(b"x")
    day_ago = time.time() - ABANDONED_AFTER_SECONDS - 60
    os.utime(directory / old.name, (day_ago, day_ago))
    PrivateTempStorage().save(b"y")
    assert not (directory / old.name).exists() and len(list(directory.iterdir())) == 1

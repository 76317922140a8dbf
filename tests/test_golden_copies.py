"""The golden bundle and the comparison tool the tests use are the repository's copies (demo/): they must
stay byte for byte the files of ../shared, the source of truth, whenever that folder is beside the clone."""

import pytest

from tests.golden import COMPARE_TOOL, GOLDEN_DIR, SHARED

SHARED_GOLDEN = SHARED / "data" / "golden-2022"


@pytest.mark.skipif(not SHARED_GOLDEN.is_dir(), reason=f"{SHARED} is not beside the repository")
def test_demo_copies_are_the_shared_files():
    shared_files = sorted(path.name for path in SHARED_GOLDEN.iterdir() if path.is_file())
    assert shared_files == sorted(path.name for path in GOLDEN_DIR.iterdir() if path.is_file())
    for name in shared_files:
        assert (GOLDEN_DIR / name).read_bytes() == (SHARED_GOLDEN / name).read_bytes(), name
    assert COMPARE_TOOL.read_bytes() == (SHARED / "tools" / "compare_results.py").read_bytes()

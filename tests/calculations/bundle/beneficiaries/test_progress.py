"""Progress of a validation: one fraction that never goes back and ends at 1."""

from __future__ import annotations

from calculations.bundle.beneficiaries import validate_beneficiaries
from calculations.bundle.beneficiaries.progress import Progress
from tests.calculations.bundle.beneficiaries.files import GOOD_ROWS, lines, write


def test_progress_only_moves_forward_and_ends_done(tmp_path):
    seen = []
    validate_beneficiaries(
        write(tmp_path, lines(*GOOD_ROWS, '"P\n4";33;1;0;0;0;;1')),  # every reading, one after the other
        output_dir=tmp_path / "store",
        progress=lambda fraction, step: seen.append((fraction, step)),
    )
    fractions = [fraction for fraction, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert seen[-1][1] == "terminé"


def test_parts_share_out_the_bar():
    seen = []
    progress = Progress(lambda fraction, step: seen.append(round(fraction, 3)), interval=0)
    half = progress.part(0.5, 1.0)
    half.part(0.0, 0.5)(1.0, "a")  # the first half of the second half: 0.75
    half(0.2, "b")  # a lower fraction later never moves the bar back
    assert seen == [0.75, 0.75]

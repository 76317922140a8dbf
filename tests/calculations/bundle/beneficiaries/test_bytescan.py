"""The bytes of a beneficiaries file: SHA-256, what the optimistic reading may trust, encodings, files
that are not CSV text, and lines too long to be beneficiaries."""

from __future__ import annotations

import hashlib

import pytest

from calculations.bundle.beneficiaries import bytescan, scan_bytes, validate_beneficiaries
from tests.calculations.bundle.beneficiaries.files import GOOD_ROWS, NAME, accepted, lines, rejected, write


def test_scan_bytes_hashes_and_tells_what_the_optimistic_reading_may_trust(tmp_path, monkeypatch):
    monkeypatch.setattr(bytescan, "CHUNK_SIZE", 64)  # several chunks, the hash thread fed in order
    content = lines(*GOOD_ROWS * 5)
    facts = scan_bytes(write(tmp_path, content))
    assert facts.sha256 == hashlib.sha256(content.encode()).hexdigest()
    assert (facts.size, facts.has_quotes, facts.unusual, facts.long_line) == (len(content), False, False, None)
    for unusual in ('"P4";1', "P4 ;1", "P4;+1", "Pé4;1", "P4;\t1"):
        facts = scan_bytes(write(tmp_path, lines(*GOOD_ROWS, unusual)))
        assert facts.unusual, unusual
        assert facts.has_quotes == ('"' in unusual)
    # The header line may hold anything: only the data decide.
    assert not scan_bytes(write(tmp_path, lines(*GOOD_ROWS, header=' "id_patient";age'))).unusual


def test_a_line_without_end_is_found_and_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(bytescan, "MAX_LINE_BYTES", 1024)
    long_row = "P4;33;1;0;0;0;;" + "9" * 3000
    facts = scan_bytes(write(tmp_path, lines(*GOOD_ROWS, long_row, GOOD_ROWS[0])))
    assert facts.long_line == 5
    assert scan_bytes(write(tmp_path, lines(*GOOD_ROWS, "P4;" + "x" * 1000 + ";1;0;0;0;;1"))).long_line is None


def test_garbage_without_line_breaks_is_refused_before_it_is_read(tmp_path):
    content = lines(*GOOD_ROWS) + "x" * (3 * bytescan.MAX_LINE_BYTES)
    assert rejected(tmp_path, content) == [
        f"{NAME}:5: -: une ligne de 1\u00a0048\u00a0576 octets ou plus\u202f: ce n'est pas un fichier de bénéficiaires"
    ]


def test_utf8_bom_crlf_and_windows_1252(tmp_path):
    _, frame = accepted(tmp_path, ("\ufeff" + lines(*GOOD_ROWS, end="\r\n")).encode("utf-8"))
    assert frame["id_patient"].to_list() == ["P1", "P2", "P3"]
    validated, frame = accepted(tmp_path, lines("Pé1;33;1;0;0;0;;10").encode("cp1252"))
    assert frame["id_patient"].to_list() == ["Pé1"]
    assert validated.facts.encoding == "cp1252"
    # Windows-1252 far past the first bytes the encoding is guessed from.
    rows = [f"P{i};33;1;0;0;0;;1" for i in range(10_000)] + ["Pé;33;1;0;0;0;;1"]
    validated, frame = accepted(tmp_path, lines(*rows).encode("cp1252"))
    assert validated.facts.encoding == "cp1252" and frame["id_patient"][-1] == "Pé"


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00", "une archive ZIP (un classeur Excel .xlsx ou .ods\u202f?)"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "un document PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "un ancien document Excel .xls (OLE)"),
    ],
)
def test_a_file_that_is_not_csv_is_refused(tmp_path, head, kind):
    assert rejected(tmp_path, head + b"\x00" * 100) == [
        f"{NAME}:1: -: ce n'est pas un fichier texte CSV\u202f: il ressemble à {kind}"
    ]


def test_the_checksum_of_a_rejected_file_is_known(tmp_path):
    from calculations.bundle.beneficiaries import BeneficiariesError

    content = lines("P1;200;1;0;0;0;;1")
    with pytest.raises(BeneficiariesError) as caught:
        validate_beneficiaries(write(tmp_path, content))
    assert caught.value.facts.sha256 == hashlib.sha256(content.encode()).hexdigest()


def test_facts_from_the_caller_are_trusted_and_not_computed_again(tmp_path, monkeypatch):
    path = write(tmp_path, lines(*GOOD_ROWS))
    facts = scan_bytes(path)
    monkeypatch.setattr("calculations.bundle.beneficiaries.validation.scan_bytes", None)  # would fail if called
    validated = validate_beneficiaries(path, output=tmp_path / "out.parquet", byte_facts=facts)
    assert validated.facts.sha256 == facts.sha256

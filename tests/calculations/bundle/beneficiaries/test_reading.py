"""Reading a beneficiaries file: the header, field counts, blank lines, quoting and physical line
numbers, through the three readings (optimistic, as text, through the `csv` module)."""

from __future__ import annotations

import pytest

from calculations.bundle.beneficiaries import reading
from tests.calculations.bundle.beneficiaries.files import GOOD_ROWS, HEADER, NAME, accepted, lines, rejected, write


def test_header_is_case_insensitive_trimmed_in_any_order_and_unknown_columns_are_warned(tmp_path):
    header = " DEPENSES ;Age;commentaire;SEXE;ald;css;deces;rpps_mt;Id_Patient"
    validated, frame = accepted(tmp_path, lines("12,5;40;libre;2;0;1;0;;P9", header=header))
    assert frame.rows() == [("P9", 40, 2, 0, 1, 0, None, 1250)]
    assert [str(w) for w in validated.warnings] == [f"{NAME}:1: commentaire: colonne inconnue ignorée"]


def test_warnings_stay_with_a_rejected_file(tmp_path):
    from calculations.bundle.beneficiaries import BeneficiariesError, validate_beneficiaries

    with pytest.raises(BeneficiariesError) as caught:
        validate_beneficiaries(write(tmp_path, lines("P1;200;1;0;0;0;;1;x", header=HEADER + ";note")))
    assert [str(w) for w in caught.value.warnings] == [f"{NAME}:1: note: colonne inconnue ignorée"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            lines(GOOD_ROWS[0], header=HEADER.replace(";rpps_mt", "")),
            "1: rpps_mt: colonne obligatoire absente de l'en-tête",
        ),
        (lines(GOOD_ROWS[0] + ";1", header=HEADER + ";age"), "1: age: colonne présente deux fois dans l'en-tête"),
        ("", "1: -: fichier vide\u202f: une ligne d'en-tête est obligatoire"),
        ("\n  \n\n", "1: -: fichier vide\u202f: une ligne d'en-tête est obligatoire"),
        (HEADER + "\n", "2: -: aucune ligne de données après l'en-tête"),
        (lines(GOOD_ROWS[0], "P2;25;2;1;1;0;"), "3: -: 8 champs attendus, 7 trouvés"),  # truncated last line
        (lines(GOOD_ROWS[0], GOOD_ROWS[1] + ";x"), "3: -: 8 champs attendus, 9 trouvés"),
        (lines(GOOD_ROWS[0], GOOD_ROWS[1] + ";"), "3: -: 8 champs attendus, 9 trouvés"),  # trailing separator
        (lines(GOOD_ROWS[0], GOOD_ROWS[1] + ";;;;"), "3: -: 8 champs attendus, 12 trouvés"),
        (
            lines(GOOD_ROWS[0]) + '"P2;25;2;1;1;0;;10',
            "3: -: CSV mal formé\u202f: fin de données inattendue (guillemet non fermé\u202f?)",
        ),  # cut inside quotes
    ],
)
def test_file_level_rules(tmp_path, content, problem):
    assert rejected(tmp_path, content) == [f"{NAME}:{problem}"]


def test_decimal_comma_is_refused_in_a_comma_delimited_file(tmp_path):
    header = HEADER.replace(";", ",")
    assert rejected(tmp_path, lines("P1,33,1,0,0,0,10783041963,8859,20", header=header)) == [
        f"{NAME}:2: -: 8 champs attendus, 9 trouvés"
    ]


def test_truncated_last_line_without_newline(tmp_path):
    content = lines(*GOOD_ROWS).rstrip("\n") + "\nP4;25;2;1;1;0;1078"
    assert rejected(tmp_path, content) == [f"{NAME}:5: -: 8 champs attendus, 7 trouvés"]


def test_a_short_row_is_found_when_the_last_column_may_be_empty(tmp_path):
    header = "id_patient;age;sexe;ald;css;deces;depenses;rpps_mt"
    assert rejected(tmp_path, lines("P1;33;1;0;0;0;1;", "P2;33;1;0;0;0;1", header=header)) == [
        f"{NAME}:3: -: 8 champs attendus, 7 trouvés"
    ]
    validated, _ = accepted(tmp_path, lines("P1;33;1;0;0;0;1;", "P2;33;1;0;0;0;1;10783041963", header=header))
    assert validated.path_taken == "exact"  # an empty last field and a missing one read alike


def test_values_are_trimmed_and_standard_quoting_is_allowed(tmp_path):
    validated, frame = accepted(tmp_path, lines(" P1 ; 33 ;1;0;0;0; 10783041963 ; 12,5 ", '"P;2";"25";2;0;0;0;"";"7"'))
    assert frame.rows() == [("P1", 33, 1, 0, 0, 0, "10783041963", 1250), ("P;2", 25, 2, 0, 0, 0, None, 700)]
    assert validated.path_taken == "exact"  # spaces and quotes are not for the optimistic reader


def test_blank_lines_are_skipped_and_lines_stay_physical(tmp_path):
    content = lines(GOOD_ROWS[0], "", "   ", ";;;;;;;", GOOD_ROWS[1], "P4;200;1;0;0;0;;1", "")
    # header 1, P1 2, blank 3, blank 4, blank 5, P2 6, P4 7, blank 8.
    assert rejected(tmp_path, content) == [f"{NAME}:7: age: doit être compris entre 0 et 125, reçu «\u202f200\u202f»"]
    for blank in ("", ";;;;;;;", " "):
        validated, frame = accepted(tmp_path, lines(GOOD_ROWS[0], blank, GOOD_ROWS[1], ""))
        assert frame.height == validated.rows == 2


def test_a_row_of_empty_fields_past_the_header_is_not_blank(tmp_path):
    assert rejected(tmp_path, lines(GOOD_ROWS[0], ";;;;;;;;;x")) == [f"{NAME}:3: -: 8 champs attendus, 10 trouvés"]


def test_a_quoted_line_break_keeps_physical_line_numbers(tmp_path):
    content = lines('"P\n1";33;1;0;0;0;;1', "P2;abc;1;0;0;0;;1")
    # The first record spans lines 2-3, so the bad age is on line 4.
    assert rejected(tmp_path, content) == [f"{NAME}:4: age: ce n'est pas un nombre entier\u202f: «\u202fabc\u202f»"]
    validated, frame = accepted(tmp_path, lines('"P\n1";33;1;0;0;0;;1', GOOD_ROWS[1]))
    assert frame["id_patient"].to_list() == ["P\n1", "P2"]
    assert validated.path_taken == "csv"


def test_a_quote_opened_at_the_end_of_a_line_is_read_as_the_csv_module_reads_it(tmp_path):
    # Found by hypothesis: the quote swallows the next line and shifts the columns.
    content = lines('0;1;0;0;0;;0;"P', '"P;6";0;1;0;0;0;;0')
    # The csv module finds it out on line 3, which the quote swallowed.
    assert rejected(tmp_path, content) == [
        f"{NAME}:3: -: CSV mal formé\u202f: «\u202f;\u202f» attendu après un guillemet fermant"
    ]


def test_the_csv_module_reading_numbers_records_by_their_first_line(tmp_path):
    path = write(tmp_path, lines('"P\n1";33;1;0;0;0;;1', "", "P2;33;1", GOOD_ROWS[2]))
    header, _, _ = reading.read_header(path, NAME)
    rows, problems = reading.csv_module_rows(path, header, tmp_path / "records", NAME)
    frame = rows.frame.select(reading.LINE, reading.BLANK, reading.FIELDS, "id_patient").collect()
    assert frame.rows() == [(2, False, 8, "P\n1"), (4, True, 0, ""), (5, False, 3, ""), (6, False, 8, "P3")]
    assert problems == []


def test_the_csv_module_reading_writes_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "CSV_BATCH_ROWS", 2)
    path = write(tmp_path, lines(*GOOD_ROWS, '"P\n4";33;1;0;0;0;;1'))
    header, _, _ = reading.read_header(path, NAME)
    rows, _ = reading.csv_module_rows(path, header, tmp_path / "records", NAME)
    assert len(list((tmp_path / "records").glob("part-*.parquet"))) == 2
    assert rows.frame.select(reading.LINE).collect().to_series().to_list() == [2, 3, 4, 5]


def test_split_rows_count_fields_and_blank_lines(tmp_path):
    path = write(tmp_path, lines("P1;33;1;0;0;0;;1", "P2;33", " ; ; ", "", "P3;33;1;0;0;0;;1;;", end="\r\n"))
    header, _, _ = reading.read_header(path, NAME)
    frame = reading.split_rows(path, header).frame.collect()
    assert frame[reading.LINE].to_list() == [2, 3, 4, 5, 6]
    assert frame[reading.FIELDS].to_list() == [8, 2, 3, 1, 10]
    assert frame[reading.BLANK].to_list() == [False, False, True, True, False]
    assert frame["id_patient"].to_list() == ["P1", "P2", "", "", "P3"]  # trimmed
    assert frame["depenses"].to_list() == ["1", "", "", "", "1"]  # a missing field reads as empty


@pytest.mark.parametrize(
    ("rows", "keep"),
    [
        (['"P;1";33;1;0;0;0;"";1', '"";"";"";"";"";"";"";""'], True),
        (['"P;1";33;1;0;0;0;"";1', '"P2";33'], False),  # a wrong field count
        (['"P\n1";33;1;0;0;0;"";1'], False),  # a quoted line break
        (['P"1;33;1;0;0;0;;1'], False),  # a stray quote
    ],
)
def test_quotes_keep_lines_only_when_rows_are_lines_with_the_right_count(tmp_path, rows, keep):
    path = write(tmp_path, lines(*rows))
    header, _, _ = reading.read_header(path, NAME)
    assert reading.quotes_keep_lines(path, header) is keep


def test_quoted_rows_undo_the_quotes(tmp_path):
    path = write(tmp_path, lines('"P;1";"33";1;0;0;0;"";"1"', '"";"";"";"";"";"";"";""'))
    header, _, _ = reading.read_header(path, NAME)
    frame = reading.quoted_rows(path, header).frame.collect()
    assert frame.select(reading.LINE, reading.BLANK, "id_patient", "age").rows() == [
        (2, False, "P;1", "33"),
        (3, True, "", ""),
    ]

"""`load_bundle`: every rule of METHODOLOGY section 3 refused with a line-level message, nothing written."""

import shutil
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from groupements.models import Groupement, IndicatorResult, Member, PatientExperience, PhaseCalendar, Wave, YearlyDecile

REFERENCE_FILES = (
    "vagues.csv",
    "calendrier_phases.csv",
    "groupements.csv",
    "membres.csv",
    "indicateurs.csv",
    "deciles_2022.csv",
    "resultats_indicateurs_2022.csv",
    "experience_patient_2022.csv",
    "parametres.json",
)


@pytest.fixture
def bundle(tmp_path, golden_dir):
    """A writable copy of the golden bundle's reference files."""
    for name in REFERENCE_FILES:
        shutil.copy(golden_dir / name, tmp_path / name)
    return tmp_path


def edit(bundle, name, old, new, count=1):
    path = bundle / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def append(bundle, name, line):
    with open(bundle / name, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def load(bundle):
    out, err = StringIO(), StringIO()
    call_command("load_bundle", str(bundle), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(bundle):
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("load_bundle", str(bundle), stdout=StringIO(), stderr=err)
    return err.getvalue()


def table_counts():
    return [
        m.objects.count()
        for m in (Wave, PhaseCalendar, Groupement, Member, YearlyDecile, IndicatorResult, PatientExperience)
    ]


@pytest.mark.django_db
def test_golden_bundle_loads_and_loading_twice_changes_nothing(bundle):
    out, _ = load(bundle)
    assert "Lot chargé." in out
    assert Groupement.objects.count() == 12
    assert Member.objects.count() == 66
    assert IndicatorResult.objects.filter(year=2022).count() == 85
    g001 = Groupement.objects.get(code="G001")
    assert (g001.wave.code, g001.region) == ("V1", "Île-de-France")
    assert PatientExperience.objects.get(groupement=g001, year=2022).points == Decimal("16.4")
    before = table_counts()
    out, _ = load(bundle)
    assert "rien n'a changé" in out
    assert table_counts() == before


# (file, mutation, expected message fragment "file:line: column: reason")
BROKEN = [
    (
        "vagues",
        lambda b: edit(b, "vagues.csv", "V1;Vague 1;2019;2018", "V1;Vague 1;2019;2019"),
        "vagues.csv:2: annee_reference: l'année de référence 2019 doit précéder l'année d'entrée 2019",
    ),
    (
        "vagues duplicate",
        lambda b: append(b, "vagues.csv", "V1;Encore;2021;2020"),
        "vagues.csv:4: code: clé en double (code=V1), déjà vue ligne 2",
    ),
    (
        "phase out of range",
        lambda b: edit(b, "calendrier_phases.csv", "V1;2019;1", "V1;2019;4"),
        "calendrier_phases.csv:2: phase: doit être compris entre 1 et 3, reçu «\u202f4\u202f»",
    ),
    (
        "phase unknown wave",
        lambda b: append(b, "calendrier_phases.csv", "V9;2022;1"),
        "calendrier_phases.csv:11: vague: vague inconnue «\u202fV9\u202f»",
    ),
    (
        "phase duplicate",
        lambda b: append(b, "calendrier_phases.csv", "V1;2022;2"),
        "calendrier_phases.csv:11: annee: clé en double (vague=V1, annee=2022), déjà vue ligne 5",
    ),
    (
        "groupement unknown wave",
        lambda b: edit(
            b, "groupements.csv", "G012;Maison de santé de Béthune;V2", "G012;Maison de santé de Béthune;V3"
        ),
        "groupements.csv:13: vague: vague inconnue «\u202fV3\u202f»",
    ),
    (
        "groupement duplicate",
        lambda b: append(b, "groupements.csv", "G001;Doublon;V1;Bretagne"),
        "groupements.csv:14: code: clé en double (code=G001), déjà vue ligne 2",
    ),
    (
        "rpps not 11 digits",
        lambda b: edit(b, "membres.csv", "G001;10139478570;", "G001;1013947857;"),
        "membres.csv:2: rpps: le RPPS doit comporter 11 chiffres, reçu «\u202f1013947857\u202f»",
    ),
    (
        "end before start",
        lambda b: edit(b, "membres.csv", "G001;10139478570;2019-01-01;", "G001;10139478570;2019-01-01;2018-12-31"),
        "membres.csv:2: date_fin: la date de fin 31/12/2018 précède la date de début 01/01/2019",
    ),
    (
        "rpps in two groupements",
        lambda b: append(b, "membres.csv", "G002;10139478570;2020-01-01;"),
        "membres.csv:68: rpps: le RPPS 10139478570 est déjà membre de G001 à cette date (ligne 2)",
    ),
    (
        "member unknown groupement",
        lambda b: append(b, "membres.csv", "G099;19999999999;2020-01-01;"),
        "membres.csv:68: code_groupement: groupement inconnu «\u202fG099\u202f»",
    ),
    (
        "bad date",
        lambda b: edit(b, "membres.csv", "G001;10139478570;2019-01-01;", "G001;10139478570;2019-13-01;"),
        "membres.csv:2: date_debut: ce n'est pas une date (AAAA-MM-JJ ou JJ/MM/AAAA)\u202f: «\u202f2019-13-01\u202f»",
    ),
    (
        "famille",
        lambda b: edit(b, "indicateurs.csv", "socle;hausse", "optionnel;hausse"),
        "indicateurs.csv:2: famille: doit valoir «\u202fsocle\u202f» ou «\u202fcarte\u202f», reçu «\u202foptionnel\u202f»",
    ),
    (
        "sens",
        lambda b: edit(b, "indicateurs.csv", "socle;hausse", "socle;stable"),
        "indicateurs.csv:2: sens: doit valoir «\u202fhausse\u202f» ou «\u202fbaisse\u202f», reçu «\u202fstable\u202f»",
    ),
    (
        "decile order",
        lambda b: edit(b, "deciles_2022.csv", "VACC_GRIPPE;48.3;51.4", "VACC_GRIPPE;52.3;51.4"),
        "deciles_2022.csv:2: d2: les déciles doivent vérifier d2 < d3 ≤ d7 < d8, reçu 52,3 ; 51,4 ; 63,7 ; 66,8",
    ),
    (
        "decile unknown indicator",
        lambda b: append(b, "deciles_2022.csv", "INCONNU;1;2;3;4"),
        "deciles_2022.csv:12: code_indicateur: indicateur inconnu «\u202fINCONNU\u202f»",
    ),
    (
        "missing socle",
        lambda b: edit(b, "resultats_indicateurs_2022.csv", "G001;VACC_GRIPPE;62.76;61.85\n", ""),
        "resultats_indicateurs_2022.csv: code_indicateur: indicateur socle VACC_GRIPPE absent pour le groupement G001",
    ),
    (
        "indicator without deciles",
        lambda b: edit(b, "deciles_2022.csv", "VACC_GRIPPE;48.3;51.4;63.7;66.8\n", ""),
        "resultats_indicateurs_2022.csv:2: code_indicateur: l'indicateur VACC_GRIPPE n'a pas de ligne dans deciles_2022.csv",
    ),
    (
        "value ce n'est ni un nombre",
        lambda b: edit(b, "resultats_indicateurs_2022.csv", "G001;VACC_GRIPPE;62.76", "G001;VACC_GRIPPE;62%"),
        "resultats_indicateurs_2022.csv:2: valeur_n: ce n'est pas un nombre décimal (séparateur décimal «\u202f.\u202f» ou «\u202f,\u202f»)\u202f: «\u202f62%\u202f»",
    ),
    (
        "exponent refused",
        lambda b: edit(b, "resultats_indicateurs_2022.csv", "G001;VACC_GRIPPE;62.76", "G001;VACC_GRIPPE;6.276e1"),
        "resultats_indicateurs_2022.csv:2: valeur_n: ce n'est pas un nombre décimal",
    ),
    (
        "duplicate result",
        lambda b: append(b, "resultats_indicateurs_2022.csv", "G001;VACC_GRIPPE;1;2"),
        "resultats_indicateurs_2022.csv:87: code_indicateur: clé en double (code_groupement=G001, code_indicateur=VACC_GRIPPE), déjà vue ligne 2",
    ),
    (
        "experience above 20",
        lambda b: edit(b, "experience_patient_2022.csv", "G001;16.4", "G001;25"),
        "experience_patient_2022.csv:2: points: doit être compris entre 0 et 20, reçu «\u202f25\u202f»",
    ),
    (
        "experience negative",
        lambda b: edit(b, "experience_patient_2022.csv", "G001;16.4", "G001;-1"),
        "experience_patient_2022.csv:2: points: ne doit pas être négatif, reçu «\u202f-1\u202f»",
    ),
    (
        "experience unknown groupement",
        lambda b: append(b, "experience_patient_2022.csv", "G077;3"),
        "experience_patient_2022.csv:14: code_groupement: groupement inconnu «\u202fG077\u202f»",
    ),
    (
        "missing file",
        lambda b: (b / "groupements.csv").unlink(),
        "groupements.csv: -: fichier obligatoire absent du lot",
    ),
    (
        "results without their deciles",
        lambda b: (b / "deciles_2022.csv").unlink(),
        "deciles_2022.csv: -: fichier obligatoire absent du lot",
    ),
    (
        "missing column",
        lambda b: edit(b, "groupements.csv", "code;nom;vague;region", "code;nom;vague;reg"),
        "groupements.csv:1: region: colonne obligatoire absente de l'en-tête",
    ),
    (
        "not a csv",
        lambda b: (b / "vagues.csv").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"),
        "vagues.csv:1: -: ce n'est pas un fichier texte CSV\u202f: il ressemble à un document PDF",
    ),
    (
        "xlsx",
        lambda b: (b / "indicateurs.csv").write_bytes(b"PK\x03\x04\x14\x00\x06\x00"),
        "indicateurs.csv:1: -: ce n'est pas un fichier texte CSV\u202f: il ressemble à une archive ZIP",
    ),
    (
        "empty file",
        lambda b: (b / "vagues.csv").write_text(""),
        "vagues.csv:1: -: fichier vide\u202f: une ligne d'en-tête est obligatoire",
    ),
    (
        "field count",
        lambda b: edit(
            b,
            "groupements.csv",
            "G003;Centre de santé de Montreuil;V1;Bourgogne-Franche-Comté",
            "G003;Centre de santé de Montreuil;V1",
        ),
        "groupements.csv:4: -: 4 champs attendus, 3 trouvés",
    ),
    (
        "truncated quoted line",
        lambda b: append(b, "groupements.csv", 'G013;"MSP coupée;V1;Bretagne'),
        "groupements.csv:14: -: CSV mal formé",
    ),
    (
        "parametres not json",
        lambda b: (b / "parametres.json").write_text("{min_patients: 300"),
        "parametres.json:1: -: JSON invalide (ligne 1, colonne 2)",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("rule", "mutate", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_file_is_refused_with_its_line_and_nothing_changes(bundle, golden_dir, rule, mutate, message):
    load(bundle)  # a loaded database, then a broken new version of the bundle
    before = table_counts()
    phase_before = list(PhaseCalendar.objects.values_list("wave__code", "year", "phase"))
    mutate(bundle)
    errors = refused(bundle)
    assert message in errors, errors
    assert table_counts() == before
    assert list(PhaseCalendar.objects.values_list("wave__code", "year", "phase")) == phase_before


@pytest.mark.django_db
def test_a_refused_bundle_on_an_empty_database_writes_nothing(bundle):
    edit(bundle, "membres.csv", "G001;10139478570;", "G001;123;")
    refused(bundle)
    assert table_counts() == [0] * 7


@pytest.mark.django_db
def test_every_problem_of_every_file_is_reported_at_once(bundle):
    edit(bundle, "vagues.csv", "V1;Vague 1;2019;2018", "V1;Vague 1;2019;2020")
    edit(bundle, "experience_patient_2022.csv", "G002;19.7", "G002;21")
    errors = refused(bundle)
    assert "vagues.csv:2: annee_reference" in errors
    assert "experience_patient_2022.csv:3: points" in errors


@pytest.mark.django_db
def test_section_3_conventions_are_accepted(bundle):
    """Windows-1252, comma delimiter, CRLF, free column order, upper-case headers, blank lines, quotes, FR dates."""
    (bundle / "groupements.csv").write_bytes(
        "REGION,Code,nom,vague\r\n".encode("cp1252")
        + "".join(
            f'"{region}",{code},"{name}",{wave}\r\n\r\n'
            for code, name, wave, region in [
                line.split(";") for line in (bundle / "groupements.csv").read_text(encoding="utf-8").splitlines()[1:]
            ]
        ).encode("cp1252")
    )
    edit(bundle, "membres.csv", "G001;10139478570;2019-01-01;", "G001;10139478570;01/01/2019;")
    edit(bundle, "experience_patient_2022.csv", "G001;16.4", "G001;16,4")
    edit(bundle, "vagues.csv", "code;libelle", "code;commentaire;libelle")
    edit(bundle, "vagues.csv", "V1;Vague", "V1;à ignorer;Vague")
    edit(bundle, "vagues.csv", "V2;Vague", "V2;;Vague")
    out, err = load(bundle)
    assert "vagues.csv:1: commentaire: colonne inconnue ignorée" in err
    assert Groupement.objects.get(code="G008").name == "Maison de santé de Évry"
    assert Groupement.objects.get(code="G001").region == "Île-de-France"
    assert Member.objects.filter(rpps="10139478570", start="2019-01-01").exists()
    assert PatientExperience.objects.get(groupement__code="G001").points == Decimal("16.4")


@pytest.mark.django_db
def test_reloading_a_changed_bundle_updates_and_removes_rows(bundle):
    load(bundle)
    edit(bundle, "experience_patient_2022.csv", "G001;16.4\n", "")
    edit(bundle, "groupements.csv", "MSP de Saint-Amand", "MSP de Saint-Amand-les-Eaux")
    out, _ = load(bundle)
    assert "experience_patient_2022: 0 créé(s), 0 modifié(s), 11 inchangé(s), 1 supprimé(s)" in out
    assert Groupement.objects.get(code="G001").name == "MSP de Saint-Amand-les-Eaux"


@pytest.mark.django_db
def test_every_file_and_the_parameters_are_checked_before_refusing(bundle):
    """Issue 18 item 2: each file its first 100 problems then `… and K more`, the parameters too; nothing loaded."""
    for index in range(150):
        append(bundle, "membres.csv", f"G001;{1000000000 + index};2019-01-01;")
    edit(bundle, "deciles_2022.csv", "VACC_GRIPPE;48.3;", "VACC_GRIPPE;-48.3;")
    (bundle / "parametres.json").write_text('{"c_partage": 2, "inconnu": 1}', encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="153 problème"):
        call_command("load_bundle", str(bundle), stdout=StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[0] == "membres.csv:68: rpps: le RPPS doit comporter 11 chiffres, reçu «\u202f1000000000\u202f»"
    assert lines[100] == "… and 50 more (RPPS\u202f: 50)"
    assert lines[101] == "deciles_2022.csv:2: d2: ne doit pas être négatif, reçu «\u202f-48.3\u202f»"
    assert lines[102].startswith("parametres.json: inconnu: paramètre inconnu")
    assert lines[103] == "parametres.json: c_partage: doit être au plus 1, reçu 2"
    assert len(lines) == 104
    assert table_counts() == [0] * 7


@pytest.mark.django_db
def test_values_with_many_decimal_places_are_stored_exactly_and_loading_again_changes_nothing(bundle):
    """Issue 18 item 3: section 3 limits the places of `depenses` only (deciles with 7, results with 8,
    points with 6 are valid); an experience file with only its header is valid too."""
    edit(bundle, "deciles_2022.csv", "VACC_GRIPPE;48.3;", "VACC_GRIPPE;48.3000001;")
    edit(bundle, "resultats_indicateurs_2022.csv", "G001;VACC_GRIPPE;62.76;", "G001;VACC_GRIPPE;62.76000001;")
    edit(bundle, "experience_patient_2022.csv", "G001;16.4", "G001;16.400001")
    load(bundle)
    g001 = Groupement.objects.get(code="G001")
    assert YearlyDecile.objects.get(year=2022, indicator__code="VACC_GRIPPE").d2 == Decimal("48.3000001")
    assert IndicatorResult.objects.get(year=2022, groupement=g001, indicator__code="VACC_GRIPPE").value_n == Decimal(
        "62.76000001"
    )
    assert PatientExperience.objects.get(year=2022, groupement=g001).points == Decimal("16.400001")
    out, _ = load(bundle)
    assert "rien n'a changé" in out
    (bundle / "experience_patient_2022.csv").write_text("code_groupement;points\n", encoding="utf-8")
    out, _ = load(bundle)
    assert "Lot chargé." in out and not PatientExperience.objects.filter(year=2022).exists()

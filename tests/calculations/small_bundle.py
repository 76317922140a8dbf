"""A small complete bundle written by a test (METHODOLOGY section 3), for cases worked out by hand.

Campaign 2022: wave V1 (entry 2019, reference year 2018) in phase 2; groupements G1 (doctor
11111111111) and G2 (doctor 22222222222); outsiders are patients of 99999999999, who is no member.
One socle indicator S1 (hausse). Every patient is in one risk cell (man of 40, no flag) unless a
row says otherwise, so the risk model has one column and DA = the national mean of d.

`write_bundle(directory, files={name: text or None})` writes the defaults with some files replaced
(None: left out); `beneficiaries_rows(...)` writes the rows of a national file.
"""

from __future__ import annotations

from pathlib import Path

G1_DOCTOR, G2_DOCTOR, OUTSIDE_DOCTOR = "11111111111", "22222222222", "99999999999"
BENEFICIARIES_HEADER = "id_patient;age;sexe;ald;css;deces;rpps_mt;depenses"


def beneficiaries_rows(spends: list[tuple[str, str]], *, prefix: str = "P") -> str:
    """A national file: one patient (man of 40, no flag) per (doctor, depenses as written)."""
    rows = [f"{prefix}{index:05d};40;1;0;0;0;{doctor};{amount}" for index, (doctor, amount) in enumerate(spends)]
    return "\n".join([BENEFICIARIES_HEADER, *rows]) + "\n"


# Year N: G1 spends 100 and 200, G2 300 and 300, outsiders 1 000 each (national mean 500 with the
# default percentile 99 truncating nothing of these eight rows but the rank-8 maximum itself).
DEFAULT_SPEND = {
    2022: [(G1_DOCTOR, "100"), (G1_DOCTOR, "200"), (G2_DOCTOR, "300"), (G2_DOCTOR, "300")]
    + [(OUTSIDE_DOCTOR, "1000")] * 4,
    2018: [(G1_DOCTOR, "150"), (G1_DOCTOR, "150"), (G2_DOCTOR, "250"), (G2_DOCTOR, "250")]
    + [(OUTSIDE_DOCTOR, "800")] * 4,
}

DEFAULT_FILES = {
    "vagues.csv": "code;libelle;annee_entree;annee_reference\nV1;Vague 1;2019;2018\n",
    "calendrier_phases.csv": "vague;annee;phase\nV1;2022;2\n",
    "groupements.csv": "code;nom;vague;region\nG1;MSP Un;V1;Bretagne\nG2;CPTS Deux;V1;Normandie\n",
    "membres.csv": (
        f"code_groupement;rpps;date_debut;date_fin\nG1;{G1_DOCTOR};2019-01-01;\nG2;{G2_DOCTOR};2019-01-01;\n"
    ),
    "indicateurs.csv": "code;libelle;famille;sens\nS1;Socle un;socle;hausse\n",
    "deciles_2022.csv": "code_indicateur;d2;d3;d7;d8\nS1;10;20;60;80\n",
    "resultats_indicateurs_2022.csv": "code_groupement;code_indicateur;valeur_n;valeur_n_1\nG1;S1;50;45\nG2;S1;90;85\n",
    "experience_patient_2022.csv": "code_groupement;points\nG1;10\nG2;20\n",
    "parametres.json": '{"min_patients": 1}\n',
    **{f"beneficiaires_{year}.csv": beneficiaries_rows(rows) for year, rows in DEFAULT_SPEND.items()},
}


def write_bundle(directory: Path, files: dict[str, str | None] | None = None) -> Path:
    """The default bundle in `directory` with `files` replaced (a None value leaves the file out)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in {**DEFAULT_FILES, **(files or {})}.items():
        if text is not None:
            (directory / name).write_text(text, encoding="utf-8")
    return directory

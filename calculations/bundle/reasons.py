"""Every reason a person reads when input is refused or a campaign cannot be computed, in French, in one
place: the bundle readers, the beneficiaries rules, the campaign parameters, the engine's errors and
the steps a computation reports. Code names each reason by a key (`reason("negative", value=…)`);
problems print as `file:line: column: reason` (METHODOLOGY section 3), only the reason is French.

A value as written in a file is shown between « » (`quoted`); numbers of the programme with French
grouping and decimal comma (`number`).
"""

from __future__ import annotations

import re
from datetime import date
from fractions import Fraction

NARROW_NBSP = "\u202f"  # French typography: inside « » and before : ; ? !
NBSP = "\u00a0"

REASONS: dict[str, str] = {
    # --- any CSV file of a bundle ---
    "not_csv": "ce n'est pas un fichier texte CSV{nb}: il ressemble à {kind}",
    "empty_file": "fichier vide{nb}: une ligne d'en-tête est obligatoire",
    "malformed": "CSV mal formé{nb}: {detail}",
    "malformed_header": "en-tête mal formé{nb}: {detail}",
    "no_rows": "aucune ligne de données après l'en-tête",
    "field_count": "{expected} champs attendus, {found} trouvés",
    "line_length": "une ligne de {size} octets ou plus{nb}: ce n'est pas un fichier de bénéficiaires",
    "duplicate_column": "colonne présente deux fois dans l'en-tête",
    "missing_column": "colonne obligatoire absente de l'en-tête",
    "unknown_column": "colonne inconnue ignorée",
    "missing_file": "fichier obligatoire absent du lot",
    "missing_year_file": "fichier obligatoire absent du lot (la campagne {year} a besoin de l'année {needed})",
    "missing_directory": "le dossier du lot n'existe pas",
    # --- values ---
    "required": "valeur obligatoire",
    "integer": "ce n'est pas un nombre entier{nb}: {value}",
    "boolean": "doit valoir 0 ou 1, reçu {value}",
    "range": "doit être compris entre {low} et {high}, reçu {value}",
    "decimal": "ce n'est pas un nombre décimal (séparateur décimal {separators}){nb}: {value}",
    "money_decimal": (
        "ce n'est pas un nombre décimal (séparateur décimal {separators}, sans exposant, signe ni séparateur "
        "de milliers){nb}: {value}"
    ),
    "decimal_places": "au plus {places} décimales, reçu {value}",
    "money_places": "au plus {places} décimales (un montant en euros et centimes), reçu {value}",
    "negative": "ne doit pas être négatif, reçu {value}",
    "money_range": "trop grand{nb}: doit être inférieur à {limit} euros, reçu {value}",
    "rpps": "le RPPS doit comporter 11 chiffres, reçu {value}",
    "date": "ce n'est pas une date (AAAA-MM-JJ ou JJ/MM/AAAA){nb}: {value}",
    "year": "ce n'est pas une année (4 chiffres){nb}: {value}",
    "choice": "doit valoir {allowed}, reçu {value}",
    # --- rules between rows and files ---
    "duplicate": "clé en double ({key}), déjà vue ligne {first}",
    "duplicate_id": "id_patient {value} en double (déjà ligne {first})",
    "unknown_wave": "vague inconnue {value}",
    "unknown_groupement": "groupement inconnu {value}",
    "unknown_indicator": "indicateur inconnu {value}",
    "wave_years": "l'année de référence {reference} doit précéder l'année d'entrée {entry}",
    "member_dates": "la date de fin {end} précède la date de début {start}",
    "member_overlap": "le RPPS {rpps} est déjà membre de {groupement} à cette date (ligne {line})",
    "stored_member_overlap": (
        "le RPPS {rpps} est déjà membre de {groupement} à cette date (période enregistrée du {start} au {end})"
    ),
    "decile_order": "les déciles doivent vérifier d2 < d3 ≤ d7 < d8, reçu {values}",
    "missing_deciles": "l'indicateur {indicator} n'a pas de ligne dans {file}",
    "missing_socle": "indicateur socle {indicator} absent pour le groupement {groupement}",
    "too_many_rows": "{rows} lignes{nb}: plus que {limit}, le plus grand nombre dont les centimes s'additionnent exactement",
    # --- versements.csv ---
    "unknown_nature": "nature inconnue {value} (attendu {allowed})",
    "pilot_nature": (
        "la nature {value} concerne les projets pilotes{nb}: à enregistrer sur le projet pilote, pas dans versements.csv"
    ),
    "duplicate_row": "ligne en double (déjà ligne {first})",
    "duplicate_payment": (
        "une ligne pour le groupement {groupement}, l'année {year} et la nature {nature} figure déjà ligne {first}"
    ),
    "duplicate_recovery": (
        "une récupération (montant négatif) pour le groupement {groupement}, l'année {year} et la nature "
        "{nature} figure déjà ligne {first}"
    ),
    "paid_by_campaign": (
        "l'intéressement de {groupement} versé en {year} est déjà enregistré par la campagne {campaign}"
    ),
    # --- parametres.json and --param ---
    "json": "JSON invalide (ligne {line}, colonne {column})",
    "json_object": "doit être un objet JSON {{nom{nb}: valeur}} des paramètres",
    "unknown_parameter": "paramètre inconnu, reçu {value} (paramètres connus{nb}: {known})",
    "parameter_choice": "doit valoir {allowed}, reçu {value}",
    "parameter_number": "ce n'est ni un nombre, ni un décimal, ni une fraction a/b{nb}: {value}",
    "parameter_negative": "ne doit pas être négatif, reçu {value}",
    "parameter_at_most_one": "doit être au plus 1, reçu {value}",
    "parameter_integer": "doit être un entier, reçu {value}",
    "parameter_percentile": "doit être dans ]0, 100], reçu {value}",
    "parameter_confidence": "doit être dans ]0, 1[ (bornes exclues), reçu {value}",
    "parameter_weights": "c_ecart + c_evolution doit valoir 1, reçu {ecart} + {evolution} = {value} (changez les deux)",
    "parameter_points": "base_points + max_experience_points doit être positif (S_max divise le score)",
    "parameter_assignment": "attendu nom=valeur",
    # --- the computation (engine) ---
    "missing_national_file": (
        "le fichier national des bénéficiaires de {needed} est nécessaire à la campagne {year} et manque"
    ),
    "empty_national_file": "le fichier national des bénéficiaires n'a aucune ligne",
    "spend_bounds": "les dépenses doivent être comprises entre 0 et {limit} euros exclus, trouvé de {low} à {high}",
    "spend_sum_overflow": (
        "la somme des dépenses en centimes sur {rows} lignes pourrait dépasser un entier de 64 bits{nb}: "
        "refusé plutôt que faux"
    ),
    "zero_expected_spend": (
        "groupement {groupement}{nb}: dépense attendue par patient nulle pour l'année de référence {reference_year}"
        "{which} (le modèle de risque ne prévoit rien pour ses patients){nb}: DR̄_R · DA̅_N / DA̅_R n'est pas défini"
    ),
    "zero_expected_spend_untruncated": " sans écrêtement (sensibilité de l'étape 13)",
    "unknown_wave_of_groupement": "groupement {groupement}{nb}: la vague {wave} n'est pas dans la table des vagues",
    "no_participant": "campagne {year}{nb}: aucun groupement n'y participe (aucune vague n'a de ligne pour {year})",
    "result_unknown_indicator": (
        "groupement {groupement}{nb}: l'indicateur {indicator} n'est pas dans la table des indicateurs"
    ),
    "result_without_deciles": (
        "l'indicateur {indicator} (utilisé par le groupement {groupement}) n'a pas de ligne de déciles"
    ),
    "negative_indicator_value": "groupement {groupement}, indicateur {indicator}{nb}: {column} est négatif ({value})",
    "no_socle_indicator": "aucun indicateur socle n'est défini",
    "no_socle_result": "groupement {groupement}{nb}: aucun résultat d'indicateur socle",
    "missing_socle_result": "groupement {groupement}{nb}: aucun résultat pour l'indicateur socle {indicator}",
    "member_of_several": "le RPPS {rpps} est membre de {groupements} au 31/12/{year}",
    "empty_patient_list": (
        "groupement {groupement}{nb}: patientèle vide en {list_year} (aucune ligne n'a pour médecin traitant "
        "un membre au 31/12/{year})"
    ),
    "unknown_phase": "la phase {phase} n'est ni 1, ni 2, ni 3",
    "no_risk_rows": "modèle de risque {year}{nb}: aucune ligne de bénéficiaires",
    "rank_deficient": (
        "modèle de risque {year}{nb}: le plan est de rang incomplet (rang de la matrice X′X {size}×{size} "
        "inférieur à {size}){nb}: certaines colonnes sexe × tranche d'âge, ald, css, deces sont des combinaisons "
        "linéaires des autres dans le fichier de cette année (par exemple ald = 1 pour tous les patients), le "
        "modèle de l'année {year} ne peut pas être ajusté"
    ),
}

# The kind of file a person uploaded instead of a CSV export (see `csvformat.binary_kind`).
FILE_KINDS = {
    "zip": "une archive ZIP (un classeur Excel .xlsx ou .ods{nb}?)",
    "pdf": "un document PDF",
    "ole": "un ancien document Excel .xls (OLE)",
    "gzip": "une archive gzip",
    "parquet": "un fichier Parquet",
    "binary": "un fichier binaire",
}

# What the problems past the first ones break, counted per rule: `… and 50 more (hors bornes : 50)`.
RULE_LABELS = {
    "required": "valeur obligatoire",
    "integer": "nombre entier",
    "boolean": "booléen 0/1",
    "range": "hors bornes",
    "decimal": "nombre décimal",
    "decimal_places": "décimales",
    "negative": "valeur négative",
    "rpps": "RPPS",
    "date": "date",
    "year": "année",
    "choice": "valeur permise",
    "duplicate": "doublon",
    "unknown_reference": "référence inconnue",
    "field_count": "nombre de champs",
    "malformed": "CSV mal formé",
    "header": "en-tête",
    "missing_file": "fichier absent",
    "member_overlap": "chevauchement de membres",
    "member_dates": "dates de membre",
    "decile_order": "ordre des déciles",
    "missing_deciles": "déciles manquants",
    "missing_socle": "indicateur socle manquant",
    "parameter": "paramètre",
    "engine": "calcul",
    "not_csv": "pas un fichier CSV",
    "line_length": "ligne trop longue",
    "empty_file": "fichier vide",
    "no_rows": "aucune ligne",
    "too_many_rows": "trop de lignes",
    "json": "JSON",
    "wave_years": "années de la vague",
    "internal": "erreur interne",
    "interrupted": "validation interrompue",
    "unknown_groupement": "groupement inconnu",
    "unknown_nature": "nature inconnue",
    "pilot_nature": "nature de projet pilote",
    "duplicate_row": "ligne en double",
    "duplicate_key": "doublon",
    "paid_by_campaign": "déjà versé par une campagne",
}

# The steps a campaign computation reports while it runs (shown as « 62 % – écrêtement 2022 (étape 3) »).
STEPS = {
    "members": "membres (étape 1)",
    "truncation": "écrêtement {year} (étape 3)",
    "patient_lists": "patientèles {year} (étape 2)",
    "risk_model": "modèle de risque (étape 4)",
    "averages": "moyennes (étape 5)",
    "efficiency": "gains d'efficience (étape 6)",
    "robustness": "robustesse (étape 13)",
    "quality": "qualité (étape 7)",
    "envelope": "enveloppe qualité (étape 8)",
    "phases": "phases (étape 9)",
    "caps": "plafonds (étape 10)",
    "cents": "centimes (étape 11)",
    "flags": "signalements (étape 12)",
    "done": "terminé",
}


def quoted(value: object, limit: int = 40) -> str:
    """A value as written, between « » (cut past `limit` characters)."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return f"«{NARROW_NBSP}{text}{NARROW_NBSP}»"


def number(value: object) -> str:
    """A number of the programme in French: `100 000 000`, `0,5`, `1/3` (a fraction stays a fraction)."""
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, Fraction):
        value = value.numerator
    if isinstance(value, int):
        return f"{value:,}".replace(",", NBSP)
    text = str(value)
    whole, _, decimals = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    grouped = f"{int(whole):,}".replace(",", NBSP) if whole.isdigit() else whole
    return sign + grouped + ("," + decimals if decimals else "")


def french_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def one_of(choices) -> str:
    """« socle » ou « carte »; « a », « b » ou « c »."""
    shown = [quoted(choice) for choice in choices]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " ou " + shown[-1]


def reason(key: str, /, **values) -> str:
    """The French reason `key` with its `values` (already shown as they should read)."""
    return REASONS[key].format(nb=NARROW_NBSP, **values)


def file_kind(key: str) -> str:
    return FILE_KINDS[key].format(nb=NARROW_NBSP)


def rule_label(rule: str) -> str:
    return RULE_LABELS.get(rule, rule)


def step(key: str, /, **values) -> str:
    return STEPS[key].format(**values)


def more_line(count: int, per_rule: list[tuple[str, int]]) -> str:
    """`… and 50 more (hors bornes : 50)`: the problems past the ones shown, counted per rule. The words
    `… and K more` are METHODOLOGY.md section 3's own marker of a cut report (like the `file:line:`
    prefix, read by programs as well as people), so they stay as the spec writes them."""
    detail = ", ".join(f"{rule_label(rule)}{NARROW_NBSP}: {n}" for rule, n in per_rule)
    return f"… and {count} more ({detail})"


CSV_ERRORS = {
    "unexpected end of data": "fin de données inattendue (guillemet non fermé{nb}?)",
    "new-line character seen in unquoted field": "saut de ligne dans un champ sans guillemets",
    "line contains NUL": "la ligne contient un caractère NUL",
    "field larger than field limit": "champ plus long que la limite",
}


def csv_error(exc: Exception) -> str:
    """A `csv.Error` in French (its English text when it is not one we know)."""
    text = str(exc)
    for english, french in CSV_ERRORS.items():
        if text.startswith(english):
            return french.format(nb=NARROW_NBSP)
    if match := re.fullmatch(r"'(.)' expected after '\"'", text):
        return f"{quoted(match[1])} attendu après un guillemet fermant"
    return text

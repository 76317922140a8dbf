"""Read queries on what-if simulations: those of a campaign, and a finished one's difference table as
the admin shows it (French figures, totals first, changes marked, sorted on any column)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet

from calculations.models import Campaign, Simulation
from common.formatting import format_money, format_number

# The figures compared per groupement and in total (section 10), in the order of the report.
COMPARED_FIGURES = FIGURES = ("final_amount", "efficiency_amount", "quality_amount", "amount_after_cap")
FIGURE_LABELS = {
    "final_amount": "Montant final",
    "efficiency_amount": "Efficience",
    "quality_amount": "Qualité",
    "amount_after_cap": "Après plafond",
    "national_coefficient": "Coefficient national",
}
SIDES = (("campaign", "campagne"), ("simulated", "simulation"), ("difference", "écart"), ("percent", "écart %"))
SORT_KEYS = ("code", *(f"{figure}.{side}" for figure in FIGURES for side, _ in SIDES))


def campaign_simulations(*, campaign: Campaign) -> QuerySet[Simulation]:
    return campaign.simulations.select_related("created_by").order_by("-created_at", "-pk")


def sort_key(order: str) -> str:
    """`order` when the table may be sorted on it (`-` first for descending), else "code"."""
    return order if order.removeprefix("-") in SORT_KEYS else "code"


def _number(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _is_change(figure: dict | None) -> bool:
    return figure is None or figure["difference"] is None or _number(figure["difference"]) != 0


def _signed(text: str, value) -> str:
    return f"+{text}" if value is not None and _number(value) > 0 else text


def _cells(line: dict) -> list[dict]:
    cells = []
    for name in FIGURES:
        figure = line.get(name) or {"campaign": None, "simulated": None, "difference": None, "percent": None}
        moved = _is_change(line.get(name))
        difference, percent = figure["difference"], figure["percent"]
        cells += [
            {"text": format_money(figure["campaign"]), "changed": False},
            {"text": format_money(figure["simulated"]), "changed": moved},
            {"text": _signed(format_money(difference), difference), "changed": moved},
            {
                "text": "–" if percent is None else _signed(f"{format_number(percent, 2)}\u00a0%", percent),
                "changed": moved,
            },
        ]
    return cells


def difference_table(report: dict, *, order: str = "code") -> dict:
    """Headers (with the link to sort on each), the totals row, the groupement rows sorted on `order`,
    and the national coefficient, every figure formatted in French."""
    order = sort_key(order)
    key, descending = order.removeprefix("-"), order.startswith("-")
    differences = report["differences"]

    def value(line: dict):
        if key == "code":
            return line["code"]
        figure, side = key.split(".")
        number = _number((line.get(figure) or {}).get(side))
        return (number is None, number if number is not None else Decimal(0))

    lines = sorted(differences["groupements"], key=value, reverse=descending)
    headers = [{"label": "Groupement", "key": "code"}] + [
        {"label": f"{FIGURE_LABELS[name]} – {label}", "key": f"{name}.{side}"}
        for name in FIGURES
        for side, label in SIDES
    ]
    for header in headers:
        header["sorted"] = header["key"] == key
        header["descending"] = descending and header["sorted"]
        header["next"] = f"-{header['key']}" if header["sorted"] and not descending else header["key"]
    coefficient = differences["totals"]["national_coefficient"]
    return {
        "headers": headers,
        "total": {
            "code": "Total",
            "changed": any(_is_change(differences["totals"].get(n)) for n in FIGURES),
            "cells": _cells(differences["totals"]),
        },
        "rows": [
            {"code": line["code"], "changed": any(_is_change(line.get(n)) for n in FIGURES), "cells": _cells(line)}
            for line in lines
        ],
        "coefficient": {
            "campaign": format_number(coefficient["campaign"], 6),
            "simulated": format_number(coefficient["simulated"], 6),
            "difference": _signed(format_number(coefficient["difference"], 6), coefficient["difference"]),
            "changed": _is_change(coefficient),
        },
        "changed_count": sum(1 for line in lines if any(_is_change(line.get(n)) for n in FIGURES)),
    }

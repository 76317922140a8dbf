"""Charts of the national report, drawn server-side as SVG with matplotlib's object API (no pyplot
state, safe in threads and Celery workers). Same data → same SVG (fixed hash salt, no date)."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

from matplotlib import rcParams  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from common.formatting import format_number  # noqa: E402

rcParams["svg.hashsalt"] = "ipep"
rcParams["font.family"] = "DejaVu Sans"
rcParams["font.size"] = 8

WAVE_COLOURS = ("#1f5a96", "#d9822b", "#3a8f5c", "#a23b72", "#6c6f7d", "#c2a400")
_euros = FuncFormatter(lambda value, _pos: f"{format_number(value, 0, separator=' ')} €")


def wave_colours(waves: Sequence[str]) -> dict[str, str]:
    return {wave: WAVE_COLOURS[i % len(WAVE_COLOURS)] for i, wave in enumerate(sorted(set(waves)))}


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buffer.getvalue()


def amounts_chart(rows: Sequence[dict]) -> str:
    """Final amount of each groupement, largest first, coloured by wave."""
    ordered = sorted(rows, key=lambda r: (-float(r["final_amount"]), r["code"]))
    colours = wave_colours([r["wave"] for r in rows])
    figure = Figure(figsize=(7.5, max(2.2, 0.22 * len(rows) + 0.8)))
    axes = figure.add_subplot()
    positions = range(len(ordered))
    axes.barh(list(positions), [float(r["final_amount"]) for r in ordered], color=[colours[r["wave"]] for r in ordered])
    axes.set_yticks(list(positions), [r["code"] for r in ordered])
    axes.invert_yaxis()
    axes.xaxis.set_major_formatter(_euros)
    axes.set_title("Montant final par groupement")
    axes.grid(axis="x", alpha=0.3)
    axes.set_axisbelow(True)
    for wave, colour in colours.items():
        axes.bar(0, 0, color=colour, label=f"Vague {wave}")
    axes.legend(loc="lower right", frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def quality_efficiency_chart(rows: Sequence[dict]) -> str:
    """Quality score S against the level gap E (€ per patient); dot area ∝ patients, colour = wave."""
    colours = wave_colours([r["wave"] for r in rows])
    figure = Figure(figsize=(7.5, 4.2))
    axes = figure.add_subplot()
    largest = max((r["n_patients"] for r in rows), default=1) or 1
    for wave, colour in colours.items():
        mine = [r for r in rows if r["wave"] == wave]
        axes.scatter(
            [r["level_gap"] for r in mine],
            [r["quality_score"] for r in mine],
            s=[20 + 280 * r["n_patients"] / largest for r in mine],
            color=colour,
            alpha=0.75,
            edgecolors="white",
            linewidths=0.6,
            label=f"Vague {wave}",
        )
    for r in rows:
        axes.annotate(
            r["code"], (r["level_gap"], r["quality_score"]), textcoords="offset points", xytext=(5, 4), fontsize=6.5
        )
    axes.axvline(0, color="#888", linewidth=0.7)
    axes.set_xlabel("Écart de niveau E par patient (dépense attendue − réelle)")
    axes.set_ylabel("Score qualité S")
    axes.xaxis.set_major_formatter(_euros)
    axes.set_title("Qualité et efficience")
    axes.grid(alpha=0.3)
    axes.legend(frameon=False, markerscale=0.6)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def waves_chart(waves: Sequence[dict]) -> str:
    """Per wave: efficiency, quality and final amounts, side by side."""
    figure = Figure(figsize=(7.5, 3.2))
    axes = figure.add_subplot()
    width = 0.26
    series = (
        ("efficiency_amount", "Efficience", "#1f5a96"),
        ("quality_amount", "Qualité", "#3a8f5c"),
        ("final_amount", "Montant final", "#d9822b"),
    )
    for i, (key, label, colour) in enumerate(series):
        axes.bar(
            [j + (i - 1) * width for j in range(len(waves))],
            [float(w[key]) for w in waves],
            width,
            label=label,
            color=colour,
        )
    axes.set_xticks(list(range(len(waves))), [f"Vague {w['wave']}\n({w['count']} groupements)" for w in waves])
    axes.yaxis.set_major_formatter(_euros)
    axes.set_title("Montants par vague")
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    axes.legend(frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


NOISE_COLOUR, MEASURED_COLOUR = "#b3261e", "#1f5a96"
LABELLED_ROWS = 80  # beyond, one line per groupement still, but no code beside each


def forest_chart(rows: Sequence[dict], level: str) -> str:
    """Forest plot of the level gaps: one line per groupement in the given order (largest E first), its
    confidence interval as a bar, E as a dot, zero marked; red when the gain is not told apart from chance."""
    count = len(rows)
    figure = Figure(figsize=(7.5, min(24.0, max(2.4, 0.2 * count + 1.0))))
    axes = figure.add_subplot()
    positions = list(range(count))
    colours = [NOISE_COLOUR if r["efficiency_noise"] else MEASURED_COLOUR for r in rows]
    axes.hlines(positions, [r["level_gap_low"] for r in rows], [r["level_gap_high"] for r in rows], colors=colours)
    axes.scatter(
        [r["level_gap"] for r in rows], positions, color=colours, s=14 if count <= LABELLED_ROWS else 4, zorder=3
    )
    axes.axvline(0, color="#333", linewidth=0.9)
    if count <= LABELLED_ROWS:
        axes.set_yticks(positions, [r["code"] for r in rows])
    else:
        axes.set_yticks([])
        axes.set_ylabel(f"{count} groupements")
    axes.set_ylim(count - 0.5, -0.5)
    axes.xaxis.set_major_formatter(_euros)
    axes.set_xlabel("Écart de niveau E par patient (dépense attendue − réelle) ; à droite de 0 : économie")
    axes.set_title(f"Écart de niveau E et son intervalle de confiance à {level}")
    axes.grid(axis="x", alpha=0.3)
    axes.set_axisbelow(True)
    axes.plot([], [], color=MEASURED_COLOUR, marker="o", markersize=4, label="E et son intervalle")
    if any(r["efficiency_noise"] for r in rows):
        axes.plot([], [], color=NOISE_COLOUR, marker="o", markersize=4, label="gain non distinguable du hasard")
    axes.legend(loc="best", frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def svg_data_uri(svg: str) -> str:
    """An SVG as a `data:` URI, the only kind of URL the PDF renderer is allowed to fetch."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")

"""The campaign page's step-13 panel: how many gains cannot be told apart from chance, and what the noise
gate would change to the paid amounts (the engine recomputes them from the stored figures)."""

from __future__ import annotations

from calculations.models import Campaign
from calculations.selectors.campaigns import noise_gate_effect
from common.formatting import format_level, format_money, format_number


def _compared(label: str, off, on, *, ratio: bool = False) -> dict:
    shown = (lambda value: format_number(value, 4)) if ratio else format_money  # ratios to 4 places
    return {"label": label, "off": shown(off), "on": shown(on), "difference": shown(on - off)}


def noise_gate_context(campaign: Campaign) -> dict | None:
    """None without stored step-13 figures; else the counts and the rows of the off / on comparison."""
    effect = noise_gate_effect(campaign=campaign)
    if effect is None:
        return None
    parameters = campaign.parameters or {}
    return {
        "flagged": len(effect.flagged),
        "count": len(effect.lines),
        "changed": len(effect.changed),
        "level": format_level(parameters.get("confidence_level", "0.95")),
        "gate_on": parameters.get("noise_gate") == "on",
        "rows": [
            _compared("Total versé", effect.paid_total_off, effect.paid_total_on),
            _compared("Coefficient national", effect.coefficient_off, effect.coefficient_on, ratio=True),
            *(
                _compared(f"{line.code} (gain signalé)", line.final_amount_off, line.final_amount_on)
                for line in effect.flagged
            ),
        ],
    }

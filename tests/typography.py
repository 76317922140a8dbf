"""French typography undone, for tests that check wording: narrow and plain no-break spaces become
spaces, typographic apostrophes straight ones, the true minus a hyphen. The characters themselves are checked by
tests/common/test_formatting.py and by one typography test per medium (portal, e-mail, PDF)."""

NBSP, NNBSP, APOSTROPHE, MINUS = "\u00a0", "\u202f", "\u2019", "\u2212"


def plain(text: str) -> str:
    return text.replace(NNBSP, " ").replace(NBSP, " ").replace(APOSTROPHE, "'").replace(MINUS, "-")


def typography_faults(text: str) -> list[str]:
    """Places of `text` (visible text, not markup) still set in typewriter style: a straight apostrophe
    between letters, a plain space before ; : ! ? or inside « »."""
    import re

    pattern = r"\w'\w|[ \u00a0][;:!?]|«[ \u00a0]|[ \u00a0]»|«\w|\w»"
    return [text[max(0, m.start() - 20) : m.end() + 20] for m in re.finditer(pattern, text)]


def visible_text(html: str) -> str:
    """The text of an HTML page a person sees: no tags, comments, scripts, styles or form values."""
    import re

    html = re.sub(r"<!--.*?-->|<(script|style|textarea)\b.*?</\1\s*>", " ", html, flags=re.DOTALL | re.IGNORECASE)
    return re.sub(r"<[^>]*>", "", html).replace("&#x27;", "'").replace("&#39;", "'")

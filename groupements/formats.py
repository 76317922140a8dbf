"""CSV as the bundles write it (METHODOLOGY section 3): `;` when the header line has one, else `,`;
UTF-8 (a BOM dropped) when the bytes decode as UTF-8, else Windows-1252. Exports are safe for
spreadsheets (common.importexport)."""

from common.importexport import SafeCSV, SafeXLSX


def decode_bundle_text(data) -> str:
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


class BundleCSV(SafeCSV):
    def create_dataset(self, in_stream, **kwargs):
        text = decode_bundle_text(in_stream)
        header_line = next((line for line in text.splitlines() if line.strip()), "")
        kwargs.setdefault("delimiter", ";" if ";" in header_line else ",")
        return super().create_dataset(text, **kwargs)

    def export_data(self, dataset, **kwargs):
        kwargs.setdefault("delimiter", ";")
        return super().export_data(dataset, **kwargs)


FORMATS = [BundleCSV, SafeXLSX]

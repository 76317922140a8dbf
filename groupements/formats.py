"""CSV as the bundles write it (METHODOLOGY section 3): `;` when the header line has one, else `,`."""
from import_export.formats import base_formats


class BundleCSV(base_formats.CSV):
    def create_dataset(self, in_stream, **kwargs):
        text = in_stream.decode(self.encoding or "utf-8-sig") if isinstance(in_stream, bytes) else in_stream
        header_line = text.lstrip("\ufeff").split("\n", 1)[0]
        kwargs.setdefault("delimiter", ";" if ";" in header_line else ",")
        return super().create_dataset(text, **kwargs)

    def export_data(self, dataset, **kwargs):
        kwargs.setdefault("delimiter", ";")
        return super().export_data(dataset, **kwargs)


FORMATS = [BundleCSV, base_formats.XLSX]

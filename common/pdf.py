"""HTML → PDF with WeasyPrint, offline: only `data:` URIs (embedded charts) may be fetched, fonts come
from the system (DejaVu, fonts-dejavu), so rendering never touches the network."""

from __future__ import annotations

import gc
from contextlib import contextmanager

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

_FETCHER_OPTIONS = {"allowed_protocols": {"data"}, "fail_on_errors": True}


@contextmanager
def _collect_once_afterwards():
    """WeasyPrint creates tens of thousands of short-lived reference cycles per document; letting the
    collector run during layout triggers full-heap collections that cost about a third of the render
    time. Collect the young generations once at the end instead (measured: 0.45 s → 0.35 s a page set)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect(1)


def render_pdf(template_name: str, context: dict) -> bytes:
    """The PDF bytes of a Django template. Same context → same bytes (no timestamps are embedded).

    Always in the site language: a PDF drawn during a request (eager Celery, rendering at publication)
    must not take the month names of the requester's browser language (LocaleMiddleware)."""
    # WeasyPrint takes a second to import: only the processes that draw a PDF pay for it.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string(template_name, context)
    with _collect_once_afterwards():
        return HTML(string=html, url_fetcher=URLFetcher(**_FETCHER_OPTIONS)).write_pdf()

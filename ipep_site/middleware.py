"""Site-wide request handling."""

from common.formatting import french_typography_html


class HeadAsGetMiddleware:
    """HEAD is answered exactly as GET, without the body (RFC 9110): views see GET, so none can answer
    otherwise, third-party ones included (the admin's login tests `request.method == "GET"`). The method
    is HEAD again on the way out, so that the server, or the test client, drops the body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "HEAD":
            return self.get_response(request)
        request.method = "GET"
        try:
            return self.get_response(request)
        finally:
            request.method = "HEAD"


# Pages built on the admin's templates: the admin itself, and the staff reports it links to (/gestion/,
# `reports/national_report.html` extends `admin/base_site.html`).
ADMIN_PREFIXES = ("/admin/", "/gestion/")


class AdminTypographyMiddleware:
    """French typography (common.formatting.french_typography_html) on the text of every admin page,
    Django's own templates included, which no template filter can reach: narrow no-break spaces before
    « : ; ! ? » and inside « », typographic apostrophes. Tags, scripts, styles, textareas and form
    values are left as they are; other responses (files, CSV, JSON, streams) are not touched.

    Inside HeadAsGetMiddleware, it sees a HEAD request as the GET it is answered as (the body is dropped
    afterwards, its length kept). The Content-Length set further in (CommonMiddleware) is recomputed: U+202F
    and ’ take three bytes in UTF-8 where a space or ' took one (and `&#x27;` six)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path_info.startswith(ADMIN_PREFIXES)
            and not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
        ):
            charset = response.charset
            response.content = french_typography_html(response.content.decode(charset)).encode(charset)
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response

"""Site-wide request handling."""


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

"""gunicorn's settings, read by `gunicorn ipep_site.wsgi` started from the project directory (its default
configuration file). Command-line options override them."""

import gunicorn.http.wsgi

# No response names the software that serves it: gunicorn writes its own `Server: gunicorn` line,
# whatever the application sets, from this module attribute (pinned version: tests/site/test_gunicorn.py).
gunicorn.http.wsgi.SERVER = "ipep"

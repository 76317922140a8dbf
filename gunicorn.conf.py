"""gunicorn's settings, read by `gunicorn ipep_site.wsgi` started from the project directory (its default
configuration file). Command-line options override them; the GUNICORN_* variables of the environment file
(deploy/ipep.env.example) adjust them without editing this file."""

import os

import gunicorn.http.wsgi

# No response names the software that serves it: gunicorn writes its own `Server: gunicorn` line,
# whatever the application sets, from this module attribute (pinned version: tests/site/test_gunicorn.py).
gunicorn.http.wsgi.SERVER = "ipep"

# Behind nginx on the same host (deploy/nginx/ipep.conf); a socket path works too: unix:/run/ipep/web.sock.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Pages and PDF downloads are short and CPU-bound: processes, not threads, use the cores. Two per core, not
# the usual 2 × cores + 1: PostgreSQL and Redis share the host, and on 2 cores bench/load.py measured 4
# processes at 264 req/s (list) and 412 req/s (PDF) against 222 and 387 with 5, 227 and 321 with 6.
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1)))
threads = int(os.environ.get("GUNICORN_THREADS", 1))
# nginx receives a 2 GB upload whole before passing it on (deploy/nginx/ipep.conf), and storing it (copy,
# SHA-256) takes minutes on a slow disk: a request is cut after 10 minutes, not gunicorn's 30 s.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 600))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after that many requests: memory held by one big response does not stay. Not
# more often: a new process loads the application (about a second of CPU), and at 2 000 the replacements
# showed in bench/load.py as pauses of a second at 300 requests per second.
max_requests = 20000
max_requests_jitter = 2000
# Only nginx on this host may say that the request came over https (X-Forwarded-Proto).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# One JSON line per request comes from the application (ipep_site.requestlog), with the request id and
# the user; gunicorn's own access log would repeat it without them.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

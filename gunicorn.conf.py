"""Gunicorn settings read from the working directory (``gunicorn config.wsgi`` run from the
repository root, as the demo, the tests and docs/architecture.md do): the server's own refusals are
problem+json (config/gunicorn_errors.py). Command-line options still set everything else."""
from config.gunicorn_errors import install

install()

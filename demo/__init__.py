"""The main job (``manage.py demo``): a seeded synthetic network, one business day driven through the
real HTTP API with signed requests, the close and its report (spec/operations.md §The main job).

- :mod:`demo.catalogue` — the national list of fee items and how bills are sized (pure);
- :mod:`demo.network` — institutions, persons, filings, policies, prefunds (pure, seeded);
- :mod:`demo.day` — the day's settlement requests (pure, seeded);
- :mod:`demo.http` — signed HTTP client and the gunicorn/Celery subprocesses;
- :mod:`demo.report` — the printed report and the PNG chart.
"""

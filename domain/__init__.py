"""BookReader domain: models, migrations and services. Never imports Dramatiq."""

"""The package as pip installs it from a wheel: templates, migrations and static files all inside."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.e2e

#: Run from the installed copy only: it must find every file it needs inside the package.
CHECK = textwrap.dedent(
    """
    import pathlib, sys
    import domain
    assert pathlib.Path(domain.__file__).is_relative_to(sys.argv[1]), domain.__file__
    from fastapi.testclient import TestClient
    from broker.settings import Settings
    from broker import runtime
    from dashboard.app import create_app
    from domain import db, migrate
    from domain.mail.templates import render

    url = f"sqlite:///{sys.argv[2]}/packaged.db"
    before, after = migrate.upgrade(db.configure(url))
    assert before is None and after is not None
    assert "Привет" in render("notification", "ru", {"subject": "s", "body": "Привет"}).html
    settings = Settings(database_url=url)
    client = TestClient(create_app(settings, runtime.configure(settings)), base_url="http://127.0.0.1")
    assert "<form" in client.get("/login").text
    assert client.get("/api/docs/static/swagger-ui-bundle.js").status_code == 200
    from domain.nlp.ensemble import default_processors, find_passages
    from domain.nlp.spacy_processor import PIPELINE
    assert PIPELINE.is_relative_to(sys.argv[1]), PIPELINE
    assert {p.name for p in default_processors()} >= {"natasha", "spacy", "vectors"}
    [house] = find_passages("Старый дом стоял на высоком холме над тёмной рекой. Он позвонил в среду.")
    assert house.kind == "location", house
    print("installed package complete, migrated to", after)
    """
)


def test_the_wheel_installs_templates_migrations_and_static_files(tmp_path):
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", str(REPO_ROOT), "--no-deps", "-w", str(dist)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    assert "absent from the `packages` configuration" not in built.stdout + built.stderr
    [wheel] = dist.glob("bookjobs-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"dashboard/templates/job.html", "domain/mail/templates/notification.ru.html"} <= names
    assert any(name.startswith("domain/migrations/versions/0009_") for name in names)
    assert {"domain/nlp/data/ensemble.json", "domain/nlp/data/spacy_textcat/textcat/model"} <= names
    assert not any(name.startswith("tests/") for name in names)

    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    checked = subprocess.run(
        [sys.executable, "-c", CHECK, str(site), str(tmp_path)],
        cwd=tmp_path,  # not the repository: nothing may come from the source tree
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert "installed package complete" in checked.stdout

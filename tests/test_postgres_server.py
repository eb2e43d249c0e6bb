"""The throwaway PostgreSQL server works: plain SQLAlchemy over psycopg 3, and nbgrader's Gradebook on it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from nbgrader.api import Gradebook
from postgres import postgres_url  # noqa: F401  (a fixture: see tests/postgres.py)


def test_gradebook_on_postgres(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    # Gradebook runs `alembic heads` as a subprocess: this Python's bin/ must be on PATH (as `make test` has it).
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    # First in the module: Gradebook stamps alembic_version only into a database without tables.
    with Gradebook(postgres_url, course_id="attune") as gb:
        gb.add_student("amira", first_name="Amira", last_name="Haddad")
        gb.add_assignment("ex01")
    with Gradebook(postgres_url, course_id="attune") as gb:  # a second connection reads what the first wrote
        assert gb.find_student("amira").first_name == "Amira"
        assert [a.name for a in gb.assignments] == ["ex01"]
        assert gb.find_assignment("ex01").course_id == "attune"
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    engine.dispose()


def test_sqlalchemy_roundtrip(postgres_url: str) -> None:  # noqa: F811
    engine = sa.create_engine(postgres_url)
    assert engine.dialect.driver == "psycopg"
    # Its own schema, so the gradebook's tables in "public" are left alone.
    meta = sa.MetaData(schema="scratch")
    turns = sa.Table("turns", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("text", sa.Text))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE SCHEMA scratch"))
            meta.create_all(conn)
            conn.execute(turns.insert(), [{"text": "That sounds exhausting."}, {"text": "Tell me more — é ü"}])
        with engine.connect() as conn:
            rows = conn.execute(sa.select(turns.c.text).order_by(turns.c.id)).scalars().all()
            assert rows == ["That sounds exhausting.", "Tell me more — é ü"]
            assert conn.execute(sa.text("SHOW server_encoding")).scalar_one() == "UTF8"
            assert int(conn.execute(sa.text("SHOW max_connections")).scalar_one()) >= 100
    finally:
        engine.dispose()

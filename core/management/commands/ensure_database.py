"""``manage.py ensure_database``: creates the PostgreSQL database named by ``DATABASE_URL`` when it
does not exist yet (``make demo`` runs it before ``migrate``), and says in one line what it did or
why it cannot: no traceback for a newcomer whose database is simply not there. Nothing to do on
the embedded SQLite default (the file is created on first use)."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection


def _where(params: dict) -> str:
    return f"{params.get('host') or 'localhost'}:{params.get('port') or 5432}"


class Command(BaseCommand):
    help = "Create the PostgreSQL database of DATABASE_URL if it is missing (no-op on SQLite)."

    def handle(self, *args, **opts):  # noqa: ANN002, ANN003, ANN201
        if connection.vendor != "postgresql":
            self.stdout.write(f"database: {connection.vendor} file {connection.settings_dict['NAME']}")
            return
        name = connection.settings_dict["NAME"]
        try:
            connection.ensure_connection()
        except OperationalError as exc:
            if "does not exist" not in str(exc):
                raise CommandError(
                    f"cannot reach PostgreSQL at {_where(connection.get_connection_params())} for database "
                    f"{name}: {str(exc).strip().splitlines()[0]}. Is the server running and DATABASE_URL "
                    "right?") from None
            self._create(name)
            return
        self.stdout.write(f"database: PostgreSQL {name} exists")

    def _create(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        params = connection.get_connection_params()
        params = {**params, "dbname": "postgres"}
        params.pop("database", None)
        try:
            with psycopg.connect(**params, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            pass  # created meanwhile by another process: fine
        except psycopg.Error as exc:
            raise CommandError(f"database {name} does not exist and could not be created at "
                               f"{_where(params)}: {str(exc).strip().splitlines()[0]}") from None
        self.stdout.write(f"database: PostgreSQL {name} created (it did not exist)")

"""The benchmark's own database: a fresh `isms_bench` on PostgreSQL when DATABASE_URL is set, else a SQLite
file in a temporary directory. Never the developer's var/ data, never the database DATABASE_URL names."""

import os
from pathlib import Path

BENCH_DB = "isms_bench"


def database_settings(tmp_dir: Path) -> dict:
    """DATABASES["default"] for the benchmark, made the way isms/settings.py makes the real one."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(tmp_dir / "bench.sqlite3"),
            # As isms/settings.py configures SQLite for `make run`.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
        }
    import environ

    config = environ.Env.db_url_config(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit(f"make bench supports PostgreSQL or SQLite, not {config['ENGINE']} (DATABASE_URL)")
    config["NAME"] = BENCH_DB
    # As isms/settings.py configures PostgreSQL in production: persistent connections with health checks.
    config["CONN_MAX_AGE"] = 60
    config["CONN_HEALTH_CHECKS"] = True
    return config


def recreate_postgres_database(config: dict) -> None:
    """DROP and CREATE isms_bench, connected to the database DATABASE_URL names (which is left alone)."""
    import environ
    import psycopg
    from psycopg import sql

    maintenance_db = environ.Env.db_url_config(os.environ["DATABASE_URL"])["NAME"] or "postgres"
    if maintenance_db == BENCH_DB:
        maintenance_db = "postgres"
    params = {
        "dbname": maintenance_db,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v is not None}, autocommit=True) as conn:
        name = sql.Identifier(BENCH_DB)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))

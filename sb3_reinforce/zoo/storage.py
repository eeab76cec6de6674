"""Where ``-optimize --storage`` keeps an Optuna study: journal file, SQLite file or database URL."""

import importlib.util
import random
import time
from pathlib import Path

import optuna

# rl_zoo3 itself opens paths ending in ".log" as an Optuna journal file (JournalStorage)
JOURNAL_SUFFIXES = (".log",)
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def resolve_storage(storage: str | None) -> str | None:
    """
    Normalize the ``--storage`` argument into something rl_zoo3 and Optuna understand.

    - ``None``: in-memory study (one process only), as in the zoo
    - ``path.log``: journal file, left as is for the zoo to open with ``JournalStorage``
      (several processes on one machine, no server)
    - ``path.db`` / ``.sqlite`` / ``.sqlite3``: turned into an ``sqlite:///`` URL
    - ``scheme://...`` (``sqlite:///``, ``postgresql://``, ``mysql://``...): SQLAlchemy URL for Optuna's
      ``RDBStorage``; a PostgreSQL server lets workers on several machines share one study. A bare
      ``postgresql://`` (or ``postgres://``) gets the driver that is installed (psycopg or psycopg2)

    :param storage: The value given to ``--storage``
    :return: The storage string to hand to rl_zoo3
    """
    if storage is None or storage.endswith(JOURNAL_SUFFIXES):
        return storage
    if "://" in storage:
        return _with_postgres_driver(storage)
    if storage.endswith(SQLITE_SUFFIXES):
        path = Path(storage).expanduser().absolute()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    raise ValueError(
        f"Unsupported --storage {storage!r}: use a journal file ending in {', '.join(JOURNAL_SUFFIXES)}, "
        f"an SQLite file ending in {', '.join(SQLITE_SUFFIXES)} or a database URL such as "
        "postgresql://user:password@host:5432/database"
    )


def _with_postgres_driver(url: str) -> str:
    """
    SQLAlchemy 2.1 maps a bare ``postgresql://`` to psycopg (3) and older versions to psycopg2: name the
    driver that is actually installed, so that the same URL works with either.
    """
    scheme, rest = url.split("://", 1)
    if scheme not in ("postgresql", "postgres"):
        return url
    for driver in ("psycopg", "psycopg2"):
        if importlib.util.find_spec(driver) is not None:
            return f"postgresql+{driver}://{rest}"
    raise ImportError(
        f"--storage {scheme}://... needs a PostgreSQL driver: pip install 'sb3-reinforce[postgres]' (psycopg2-binary)"
    )


def is_rdb_url(storage: str | None) -> bool:
    """:return: Whether ``storage`` is a database URL handled by Optuna's ``RDBStorage``"""
    return storage is not None and "://" in storage


def ensure_rdb_schema(url: str, n_tries: int = 5) -> None:
    """
    Create Optuna's tables in the database, retrying when another worker creates them at the same time.

    Workers started together on an empty PostgreSQL database all run ``CREATE TABLE``; all but one then
    fail on a unique constraint of the catalog. Once the tables exist, creating the storage is a no-op.

    :param url: SQLAlchemy database URL
    :param n_tries: Number of attempts before giving up
    """
    from sqlalchemy.exc import SQLAlchemyError

    for attempt in range(n_tries):
        try:
            optuna.storages.RDBStorage(url)
            return
        except SQLAlchemyError:
            if attempt == n_tries - 1:
                raise
            # Random back-off so that the racing workers do not collide again
            time.sleep(random.uniform(0.2, 1.0))

"""``learnlake privacy verify``: looks in every store for what identifies a person, and says where.

It needs no clear identifier: it takes the hashes an erasure keeps (or a live account's own
identifiers, hashed the same way), finds every token of an identifier's shape in each store (a
pseudonym ``lrn_<32 hex>``, an account id, an e-mail address, an ``mbox_sha1sum``) and compares
their hashes. Files are read as bytes (SQLite databases and their write-ahead logs, landing
segments, Delta logs, Qdrant's and Dagster's storage, MLflow artifacts), Parquet and DuckDB
through their values (they compress), Redis key by key; a lake on object storage object by object, and
server databases (the core one, the LRS's) row by row. Names are looked for where a store
keeps them as a field (the core accounts, xAPI agents); a name typed into free text is not.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import sqlalchemy as sa

from lake.privacy import EMAIL_PATTERN, PSEUDONYM_PATTERN, identifier_hash
from learnlake.settings import Settings

UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
SHA1_PATTERN = r"(?<![0-9a-fA-F])[0-9a-fA-F]{40}(?![0-9a-fA-F])"
TOKEN = re.compile("|".join(f"(?:{p})" for p in (PSEUDONYM_PATTERN, UUID_PATTERN, EMAIL_PATTERN, SHA1_PATTERN)))
TOKEN_BYTES = re.compile(TOKEN.pattern.encode())
# For Arrow's RE2, which has no look-around: a cheap first filter before Python's regex.
MAY_HOLD_TOKEN = r"lrn_|[0-9a-fA-F]{8}-|@|[0-9a-fA-F]{40}"
SKIPPED_FILES = (".lock",)


@dataclass(frozen=True)
class Finding:
    store: str
    where: str
    kind: str


class Needles:
    """What to look for: hashes of identifiers by kind, and how a token found is matched to them."""

    def __init__(self, hashes: dict[str, list[str]]):
        self.by_hash: dict[str, str] = {h: kind for kind, values in hashes.items() for h in values}

    def kinds(self, text: str) -> set[str]:
        found = set()
        for token in TOKEN.findall(text):
            for candidate in (token, f"mbox_sha1sum:{token}"):
                if (kind := self.by_hash.get(identifier_hash(candidate))) is not None:
                    found.add(kind)
        return found

    def kinds_in_bytes(self, data: bytes) -> set[str]:
        found = set()
        for token in set(TOKEN_BYTES.findall(data)):
            found |= self.kinds(token.decode(errors="replace"))
        return found

    def is_name(self, value: str | None) -> bool:
        return value is not None and self.by_hash.get(identifier_hash(value)) == "name"


def find_remains(settings: Settings, needles: Needles, *, redis_client=None) -> list[Finding]:
    """Every place under the LearnLake home (and in Redis) where one of the identifiers remains."""
    findings: list[Finding] = []
    home = Path(settings.home)
    for path in sorted(p for p in home.rglob("*") if p.is_file() and not p.name.endswith(SKIPPED_FILES)):
        relative = str(path.relative_to(home))
        if path.suffix == ".parquet":
            kinds = _parquet_kinds(path, needles)
        elif path.suffix == ".duckdb":
            kinds = _duckdb_kinds(path, needles)
        else:
            kinds = needles.kinds_in_bytes(path.read_bytes())
        findings += [Finding(_store_of(relative), relative, kind) for kind in sorted(kinds)]
    findings += _database_rows("core database", settings.database_url, needles)
    if not settings.lrs_database_url.startswith("sqlite"):  # a server database: no file of it here (API replicas)
        findings += _database_rows("xAPI statement store", settings.lrs_database_url, needles)
    if _remote(settings.lake_uri):  # the lake on object storage: every object, old versions' files included
        findings += _remote_lake_findings(settings.lake_uri, needles)
    if redis_client is not None:
        findings += _redis_findings(redis_client, needles)
    return findings


def _store_of(relative: str) -> str:
    first = relative.split("/", 1)[0]
    return {"lake": "lake (Delta)", "landing": "landing logs", "lrs": "xAPI statement store",
            "qdrant": "tutor index (Qdrant)", "mlartifacts": "MLflow artifacts", "dagster": "Dagster storage",
            "published": "published warehouse", "quality": "data-quality results"}.get(
        first, first.removesuffix("-wal").removesuffix("-shm"))


def _parquet_kinds(source, needles: Needles) -> set[str]:
    table = pq.read_table(source)
    found: set[str] = set()
    for column in table.columns:
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        candidates = column.filter(pc.fill_null(pc.match_substring_regex(column, MAY_HOLD_TOKEN), False))
        for value in pc.unique(candidates).to_pylist():
            found |= needles.kinds(value)
    return found


def _duckdb_kinds(path: Path, needles: Needles) -> set[str]:
    found: set[str] = set()
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute(
            "select c.table_schema, c.table_name, c.column_name from information_schema.columns c "
            "join information_schema.tables t using (table_schema, table_name) "
            "where t.table_type = 'BASE TABLE' and c.data_type = 'VARCHAR'").fetchall()
        for schema, table, column in columns:
            values = con.execute(f'select distinct "{column}" from "{schema}"."{table}" '
                                 f'where regexp_matches("{column}", ?)', [MAY_HOLD_TOKEN]).fetchall()
            for (value,) in values:
                found |= needles.kinds(value)
    return found


def _database_rows(store: str, url: str, needles: Needles) -> list[Finding]:
    """A database by its rows, each table read as text: names are a field there, and a server database has no
    file here to read (on SQLite the file itself was read too, free pages included)."""
    findings = []
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            for table in sa.inspect(connection).get_table_names():
                if table == "erasures":  # the record of erasures holds hashes, and clear ids only while pending
                    continue
                for row in connection.execute(sa.text(f'select * from "{table}"')):
                    values = [bytes(v).decode(errors="replace") if isinstance(v, bytes | memoryview) else str(v)
                              for v in row if v is not None]
                    if any(needles.is_name(v) for v in values) or needles.kinds(" ".join(values)):
                        findings.append(Finding(store, table, "row"))
                        break
    except sa.exc.OperationalError:
        pass  # no such database yet
    finally:
        engine.dispose()
    return findings


def _remote(uri: str) -> bool:
    return "://" in uri and not uri.startswith("file://")


def _remote_lake_findings(lake_uri: str, needles: Needles) -> list[Finding]:
    """Every object under the lake's prefix (``AWS_*`` settings, as delta-rs reads them), Parquet by its values."""
    filesystem, root = pafs.FileSystem.from_uri(lake_uri)
    findings = []
    for info in filesystem.get_file_info(pafs.FileSelector(root, recursive=True)):
        if info.type != pafs.FileType.File:
            continue
        if info.path.endswith(".parquet"):
            with filesystem.open_input_file(info.path) as handle:
                kinds = _parquet_kinds(handle, needles)
        else:
            with filesystem.open_input_stream(info.path) as handle:
                kinds = needles.kinds_in_bytes(handle.read())
        where = f"{lake_uri.rstrip('/')}/{info.path[len(root):].lstrip('/')}"
        findings += [Finding("lake (Delta)", where, kind) for kind in sorted(kinds)]
    return findings


def _redis_findings(client, needles: Needles) -> list[Finding]:
    findings = []
    for key in client.scan_iter("*", count=1000):
        value = client.get(key) if client.type(key) == b"string" else b""
        if needles.kinds_in_bytes(key) or needles.kinds_in_bytes(value or b""):
            findings.append(Finding("Redis", key.decode(errors="replace"), "identifier"))
    return findings

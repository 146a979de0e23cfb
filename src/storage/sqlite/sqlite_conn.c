/* sqlite_conn.c — opening a connection to the revision log: pragmas, the schema and
 * the prepared statements every connection caches.
 *
 * Schema: kv holds one row per write; its AUTOINCREMENT id is the revision, so ids are
 * never reused even after compaction deletes rows. meta holds the compacted revision. */
#include "storage/sqlite/sqlite_internal.h"

#include "lib/mem.h"

#include <string.h>

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS kv ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " deleted INTEGER NOT NULL,"
    " create_revision INTEGER NOT NULL,"
    " prev_revision INTEGER NOT NULL,"
    " value BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS kv_name_id ON kv (name, id);"
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO meta (name, value) VALUES ('compact_rev', 0);";

/* Indexed by enum sq_stmt. */
static const char *const stmt_sql[SQ_STMT_COUNT] = {
    [SQ_LATEST] = "SELECT id, deleted, create_revision, value FROM kv"
                  " WHERE name = ?1 ORDER BY id DESC LIMIT 1",
    [SQ_INSERT] = "INSERT INTO kv (id, name, created, deleted, create_revision,"
                  " prev_revision, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    /* ?1 prefix, ?2 end of the prefix range (a BLOB sorts after every TEXT, so an
     * empty blob means "no end"), ?3 start_after, ?4 revision, ?5 limit (-1 = none). */
    [SQ_LIST] = "SELECT kv.id, kv.name, kv.create_revision, kv.value FROM kv"
                " JOIN (SELECT MAX(id) AS newest FROM kv"
                "       WHERE name >= ?1 AND name < ?2 AND name > ?3 AND id <= ?4"
                "       GROUP BY name) AS latest ON kv.id = latest.newest"
                " WHERE kv.deleted = 0 ORDER BY kv.name LIMIT ?5",
    [SQ_HISTORY] = "SELECT id, name, created, deleted, create_revision, prev_revision, value"
                   " FROM kv WHERE id > ?1 ORDER BY id",
    [SQ_REVS] = "SELECT (SELECT seq FROM sqlite_sequence WHERE name = 'kv'),"
                " (SELECT value FROM meta WHERE name = 'compact_rev')",
    [SQ_SET_META] = "INSERT OR REPLACE INTO meta (name, value) VALUES (?1, ?2)",
    /* A row at or below ?1 goes if it is a deletion marker or a newer row of its name
     * exists at or below ?1: the state as of ?1 stays readable. */
    [SQ_COMPACT] = "DELETE FROM kv WHERE id <= ?1 AND (deleted = 1 OR id <"
                   " (SELECT MAX(newer.id) FROM kv AS newer"
                   "  WHERE newer.name = kv.name AND newer.id <= ?1))",
    [SQ_BEGIN] = "BEGIN",
    [SQ_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [SQ_COMMIT] = "COMMIT",
    [SQ_ROLLBACK] = "ROLLBACK",
};

int
sq_error(struct sq_conn *c, k8c_err *err, const char *what)
{
  return k8c_error(err, 500, K8C_REASON_INTERNAL, "storage: %s: %s", what,
                   c && c->db ? sqlite3_errmsg(c->db) : "no connection");
}

static int
exec_sql(struct sq_conn *c, const char *sql, k8c_err *err)
{
  char *msg = NULL;
  if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "storage: %s: %s", sql, msg ? msg : "?");
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

struct sq_conn *
sq_conn_open(const char *path, bool writer, bool sync_full, k8c_err *err)
{
  /* A writer that syncs every commit gathers each commit's WAL writes into one. */
  bool walbuf = writer && sync_full;
  if (walbuf && sq_walbuf_register(err) < 0)
    return NULL;
  struct sq_conn *c = xcalloc(1, sizeof(*c));
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path, &c->db, flags, walbuf ? SQ_WALBUF_VFS : NULL) != SQLITE_OK) {
    sq_error(c, err, "opening database");
    k8c_err_prefix(err, "%s", path);
    sq_conn_close(c);
    return NULL;
  }
  sqlite3_busy_timeout(c->db, 10000);
  const char *pragmas =
      writer
          ? (sync_full
                 ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0;"
                 : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA "
                   "wal_autocheckpoint=0;")
          : "PRAGMA query_only=1;";
  if (exec_sql(c, pragmas, err) < 0 || (writer && sq_schema_init(c, err) < 0)) {
    sq_conn_close(c);
    return NULL;
  }
  for (int i = 0; i < SQ_STMT_COUNT; i++) {
    if (sqlite3_prepare_v3(c->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[i], NULL) !=
        SQLITE_OK) {
      sq_error(c, err, "preparing statement");
      sq_conn_close(c);
      return NULL;
    }
  }
  return c;
}

void
sq_conn_close(struct sq_conn *c)
{
  if (!c)
    return;
  for (int i = 0; i < SQ_STMT_COUNT; i++)
    sqlite3_finalize(c->stmt[i]);
  sqlite3_close(c->db);
  free(c);
}

int
sq_schema_init(struct sq_conn *c, k8c_err *err)
{
  if (exec_sql(c, "BEGIN IMMEDIATE", err) < 0)
    return -1;
  if (exec_sql(c, schema_sql, err) < 0) {
    sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
  }
  return exec_sql(c, "COMMIT", err);
}

int
sq_read_revisions(struct sq_conn *c, int64_t *current, int64_t *compacted, k8c_err *err)
{
  sqlite3_stmt *st = c->stmt[SQ_REVS];
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(st);
    return sq_error(c, err, "reading revisions");
  }
  *current = sqlite3_column_int64(st, 0);
  *compacted = sqlite3_column_int64(st, 1);
  sqlite3_reset(st);
  return 0;
}

int
sq_exec_stmt(struct sq_conn *c, enum sq_stmt which, k8c_err *err)
{
  sqlite3_stmt *st = c->stmt[which];
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE)
    return sq_error(c, err, stmt_sql[which]);
  return 0;
}

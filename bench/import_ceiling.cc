// The import's ceiling (issue 14: >= 50,000 password-free users/s with indexes): bare
// SQLite, no Roster code at all, writing per user what an import writes (a `users` row
// with a sealed blob, an audit row) plus E blind-index rows of random digests (keyed
// hashes look random), in batches of B users per transaction, WAL, synchronous=FULL, a
// 256 MiB page cache: Roster's own store settings for a bulk import.
//
// Shapes of the index rows:
//   roster   the user_index table as migrations 1 and 7 made it: (environment id text,
//            kind text, digest, user number, is_unique, generation), its primary key, the
//            partial unique index and the by-user index; the batch's rows sorted by key.
//   compact  a 16-byte key and the user number, primary key (key, user) plus a by-user
//            index: the smallest row that can still be deleted by user.
//   bare     the compact row without the by-user index (deletes would re-derive).
//   sorted   bare, but every entry of the whole import held back and written at the end
//            in key order into the empty table (an index built after the rows).
//
// Usage: roster-import-ceiling [--users N] [--dir D]   (N 50,000; D a temporary directory)
// Prints users/s per (shape, entries per user, batch). Run it beside `bench/import.sh`.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {

void Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::fprintf(stderr, "%s: %s\n", sql, error ? error : "?");
    std::exit(1);
  }
}

void Step(sqlite3* db, sqlite3_stmt* s) {
  if (sqlite3_step(s) != SQLITE_DONE) {
    std::fprintf(stderr, "step: %s\n", sqlite3_errmsg(db));
    std::exit(1);
  }
  sqlite3_reset(s);
}

enum class Shape { kRoster, kCompact, kBare, kSorted };

const char* Name(Shape shape) {
  switch (shape) {
    case Shape::kRoster: return "roster";
    case Shape::kCompact: return "compact";
    case Shape::kBare: return "bare";
    case Shape::kSorted: return "sorted";
  }
  return "?";
}

// The kinds an import of bench/import.sh's rows writes (claims, equality and prefix).
constexpr const char* kKinds[] = {"externalId", "s=displayname", "s=emails.value", "s=name.familyname",
                                  "s=name.givenname", "s=username", "s^displayname", "s^emails.value",
                                  "s^name.familyname", "s^name.givenname", "s^username", "username"};
constexpr int kKindCount = sizeof(kKinds) / sizeof(kKinds[0]);

struct Entry {
  unsigned char key[16];
  int kind;
  std::int64_t user;
};

double Run(const std::string& path, Shape shape, long users, int entries, int batch) {
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::fprintf(stderr, "open %s\n", path.c_str());
    std::exit(1);
  }
  Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-262144");
  Exec(db,
       "CREATE TABLE users (number INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
       " environment_id TEXT NOT NULL, active INTEGER NOT NULL, created_at INTEGER NOT NULL,"
       " updated_at INTEGER NOT NULL, version INTEGER NOT NULL, sealed BLOB NOT NULL);"
       "CREATE INDEX users_by_env ON users(environment_id, number);"
       "CREATE TABLE audit_log (environment_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL,"
       " action TEXT NOT NULL, subject TEXT NOT NULL, fields TEXT NOT NULL, prev BLOB NOT NULL,"
       " hash BLOB NOT NULL, PRIMARY KEY (environment_id, seq)) WITHOUT ROWID;");
  if (shape == Shape::kRoster) {
    Exec(db,
         "CREATE TABLE user_index (environment_id TEXT NOT NULL, kind TEXT NOT NULL, digest BLOB NOT NULL,"
         " user_number INTEGER NOT NULL, is_unique INTEGER NOT NULL, generation INTEGER NOT NULL DEFAULT 0,"
         " PRIMARY KEY (environment_id, kind, digest, user_number)) WITHOUT ROWID;"
         "CREATE UNIQUE INDEX user_index_unique ON user_index(environment_id, kind, digest) WHERE is_unique = 1;"
         "CREATE INDEX user_index_by_user ON user_index(user_number);");
  } else {
    Exec(db,
         "CREATE TABLE user_index (k BLOB NOT NULL, user_number INTEGER NOT NULL,"
         " PRIMARY KEY (k, user_number)) WITHOUT ROWID;");
    if (shape == Shape::kCompact) Exec(db, "CREATE INDEX user_index_by_user ON user_index(user_number);");
  }
  sqlite3_stmt* insert_user = nullptr;
  sqlite3_stmt* insert_audit = nullptr;
  sqlite3_stmt* insert_entry = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO users(id, environment_id, active, created_at, updated_at, version, sealed)"
                     " VALUES (?,?,1,0,0,1,?)",
                     -1, &insert_user, nullptr);
  sqlite3_prepare_v2(db,
                     "INSERT INTO audit_log(environment_id, seq, at, action, subject, fields, prev, hash)"
                     " VALUES (?,?,0,'user.create',?,?,?,?)",
                     -1, &insert_audit, nullptr);
  sqlite3_prepare_v2(db,
                     shape == Shape::kRoster
                         ? "INSERT INTO user_index(environment_id, kind, digest, user_number, is_unique)"
                           " VALUES (?,?,?,?,?)"
                         : "INSERT INTO user_index(k, user_number) VALUES (?,?)",
                     -1, &insert_entry, nullptr);

  const std::string env = "3f2c1a9e-5b7d-4c2e-9a1f-0d8e7b6c5a4f";
  std::mt19937_64 rng(42);
  std::string sealed(600, '\0');  // ~ an imported user's sealed profile (bench/import.sh rows)
  for (auto& c : sealed) c = static_cast<char>(rng());
  const std::string fields(180, 'f');
  const auto before = [](const Entry& a, const Entry& b) {
    if (a.kind != b.kind) return std::strcmp(kKinds[a.kind], kKinds[b.kind]) < 0;
    return std::memcmp(a.key, b.key, sizeof a.key) < 0;
  };
  const auto write = [&](const std::vector<Entry>& v) {
    for (const Entry& e : v) {
      if (shape == Shape::kRoster) {
        sqlite3_bind_text(insert_entry, 1, env.data(), static_cast<int>(env.size()), SQLITE_STATIC);
        sqlite3_bind_text(insert_entry, 2, kKinds[e.kind], -1, SQLITE_STATIC);
        sqlite3_bind_blob(insert_entry, 3, e.key, 12, SQLITE_STATIC);
        sqlite3_bind_int64(insert_entry, 4, e.user);
        sqlite3_bind_int(insert_entry, 5, e.kind == 0 || e.kind == kKindCount - 1);
      } else {
        sqlite3_bind_blob(insert_entry, 1, e.key, sizeof e.key, SQLITE_STATIC);
        sqlite3_bind_int64(insert_entry, 2, e.user);
      }
      Step(db, insert_entry);
    }
  };

  std::vector<Entry> held;  // kSorted: everything, written at the end
  std::int64_t seq = 0;
  const auto start = std::chrono::steady_clock::now();
  for (long first = 0; first < users; first += batch) {
    Exec(db, "BEGIN IMMEDIATE");
    std::vector<Entry> entries_of_batch;
    for (long u = first; u < std::min(users, first + batch); ++u) {
      char id[40];
      std::snprintf(id, sizeof id, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                    static_cast<unsigned long long>(rng()));
      sqlite3_bind_text(insert_user, 1, id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(insert_user, 2, env.data(), static_cast<int>(env.size()), SQLITE_STATIC);
      sqlite3_bind_blob(insert_user, 3, sealed.data(), static_cast<int>(sealed.size()), SQLITE_STATIC);
      Step(db, insert_user);
      const std::int64_t number = sqlite3_last_insert_rowid(db);
      for (int i = 0; i < entries; ++i) {
        Entry e{};
        for (int b = 0; b < 16; b += 8) {
          const auto r = rng();
          std::memcpy(e.key + b, &r, 8);
        }
        e.kind = i % kKindCount;
        e.user = number;
        entries_of_batch.push_back(e);
      }
      sqlite3_bind_text(insert_audit, 1, env.data(), static_cast<int>(env.size()), SQLITE_STATIC);
      sqlite3_bind_int64(insert_audit, 2, ++seq);
      sqlite3_bind_text(insert_audit, 3, id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(insert_audit, 4, fields.data(), static_cast<int>(fields.size()), SQLITE_STATIC);
      sqlite3_bind_blob(insert_audit, 5, sealed.data(), 32, SQLITE_STATIC);
      sqlite3_bind_blob(insert_audit, 6, sealed.data() + 32, 32, SQLITE_STATIC);
      Step(db, insert_audit);
    }
    if (shape == Shape::kSorted) {
      held.insert(held.end(), entries_of_batch.begin(), entries_of_batch.end());
    } else {
      std::sort(entries_of_batch.begin(), entries_of_batch.end(), before);
      write(entries_of_batch);
    }
    Exec(db, "COMMIT");
  }
  if (shape == Shape::kSorted) {
    Exec(db, "BEGIN IMMEDIATE");
    std::sort(held.begin(), held.end(), [](const Entry& a, const Entry& b) {
      return std::memcmp(a.key, b.key, sizeof a.key) < 0;
    });
    write(held);
    Exec(db, "COMMIT");
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sqlite3_finalize(insert_user);
  sqlite3_finalize(insert_audit);
  sqlite3_finalize(insert_entry);
  sqlite3_close(db);
  return static_cast<double>(users) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  long users = 50000;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--users") == 0) users = std::atol(argv[i + 1]);
    else if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
  }
  bool made = false;
  if (dir.empty()) {
    char pattern[] = "/tmp/roster-import-ceiling.XXXXXX";
    if (!mkdtemp(pattern)) return 1;
    dir = pattern;
    made = true;
  }
  const std::string path = dir + "/ceiling.db";
  struct Case {
    Shape shape;
    int entries;
    int batch;
  };
  // 30 entries: what an import of bench/import.sh's rows writes per user (docs/benchmarks.md).
  const Case cases[] = {{Shape::kRoster, 0, 500},  {Shape::kRoster, 0, 5000},   {Shape::kRoster, 30, 500},
                        {Shape::kRoster, 30, 5000}, {Shape::kCompact, 30, 5000}, {Shape::kBare, 30, 5000},
                        {Shape::kSorted, 30, 5000}, {Shape::kBare, 12, 5000},    {Shape::kBare, 8, 5000},
                        {Shape::kBare, 5, 5000}};
  std::printf("%ld users per case, bare SQLite %s, WAL, synchronous=FULL\n", users, sqlite3_libversion());
  std::printf("%-8s %8s %6s %12s\n", "shape", "entries", "batch", "users/s");
  for (const Case& c : cases) {
    const double rate = Run(path, c.shape, users, c.entries, c.batch);
    std::printf("%-8s %8d %6d %12.0f\n", Name(c.shape), c.entries, c.batch, rate);
    std::fflush(stdout);
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  if (made) std::filesystem::remove(dir);
  return 0;
}

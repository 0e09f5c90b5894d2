#include "cli/transfer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "core/json_policy.h"
#include "core/rules.h"
#include "crypto/crypto.h"
#include "crypto/legacy_password.h"
#include "crypto/mac.h"
#include "service/attribute_schema.h"
#include "service/search_upgrade.h"
#include "service/unreadable.h"
#include "service/user_resource.h"

namespace roster::cli {
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

// The SCIM dialect renders its own entry; the export carries every other API's.
constexpr const char* kScimDialect = "scim";
// The import checkpoint: one record per environment and file, claimed by the file's digest.
constexpr const char* kCheckpointKind = "import";
constexpr const char* kCheckpointClaim = "import";
constexpr int kExportPage = 500;

// CSV columns: one per simple attribute (name.* flattened); the cells of complex and
// multi-valued attributes and of each extension hold their JSON text.
constexpr std::string_view kSimpleColumns[] = {
    "id", "externalId", "userName", "active", "name.formatted", "name.givenName", "name.middleName",
    "name.familyName", "name.honorificPrefix", "name.honorificSuffix", "displayName", "nickName",
    "profileUrl", "title", "userType", "preferredLanguage", "locale", "timezone"};
constexpr std::string_view kJsonColumns[] = {"emails", "phoneNumbers", "addresses", "photos", "ims", "roles",
                                             "entitlements", "x509Certificates", service::kEnterpriseSchema,
                                             service::kHealthSchema, service::kAttributesSchema,
                                             service::kRosterSchema};

std::vector<std::string> CsvHeader() {
  std::vector<std::string> h(std::begin(kSimpleColumns), std::end(kSimpleColumns));
  h.insert(h.end(), std::begin(kJsonColumns), std::end(kJsonColumns));
  return h;
}

bool IsJsonColumn(std::string_view c) {
  for (auto j : kJsonColumns)
    if (j == c) return true;
  return false;
}

std::string CsvCell(std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string CsvLine(const std::vector<std::string>& cells) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) line += (i ? "," : "") + CsvCell(cells[i]);
  return line + "\n";
}

std::string CsvRow(const json::object& resource) {
  std::vector<std::string> cells;
  for (auto column : kSimpleColumns) {
    const json::value* v = nullptr;
    if (column.starts_with("name.")) {
      if (const auto* n = resource.if_contains("name"); n && n->is_object()) v = n->get_object().if_contains(column.substr(5));
    } else {
      v = resource.if_contains(column);
    }
    if (v == nullptr) cells.emplace_back();
    else if (v->is_string()) cells.emplace_back(v->get_string());
    else cells.push_back(json::serialize(*v));
  }
  for (auto column : kJsonColumns) {
    const auto* v = resource.if_contains(column);
    cells.push_back(v ? json::serialize(*v) : std::string());
  }
  return CsvLine(cells);
}

// ---- export -----------------------------------------------------------------------

json::object RosterExtension(const core::User& user) {
  json::object ext;
  if (user.archived) ext["archived"] = true;
  if (!user.external_ids.empty()) {
    json::object ids;
    for (const auto& [source, id] : user.external_ids) ids[source] = id;
    ext["externalIds"] = std::move(ids);
  }
  json::object dialects;
  for (const auto& [name, text] : user.dialect_json) {
    if (name == kScimDialect) continue;
    boost::system::error_code ec;
    json::value v = core::ParseStored(text, ec);
    if (!ec) dialects[name] = std::move(v);
  }
  if (!dialects.empty()) ext["dialects"] = std::move(dialects);
  if (!user.profile.extras_json.empty()) {
    boost::system::error_code ec;
    json::value v = core::ParseStored(user.profile.extras_json, ec);
    if (!ec) ext["extras"] = std::move(v);
  }
  return ext;
}

json::object ExportResource(const core::User& user, const core::AttributeSchema& schema,
                            std::optional<std::string> password_hash) {
  json::object o = service::RenderUserResource(user, service::RenderContext{"", &schema, {}});
  json::object ext = RosterExtension(user);
  if (password_hash) ext["passwordHash"] = *password_hash;
  if (!ext.empty()) {
    o["schemas"].as_array().push_back(json::string(service::kRosterSchema));
    o[service::kRosterSchema] = std::move(ext);
  }
  o["meta"] = json::object{{"resourceType", "User"},
                           {"created", core::FormatTimestamp(user.created_at_ms, true)},
                           {"lastModified", core::FormatTimestamp(user.updated_at_ms, true)}};
  return o;
}

// ---- import: reading records ------------------------------------------------------

struct Row {
  std::int64_t line = 0;      // where the record starts (1-based)
  std::int64_t end_line = 0;  // where it ends (a CSV record may span lines)
  std::string text;
};

// Physical lines of a file, counted.
class Lines {
 public:
  explicit Lines(std::istream& in) : in_(in) {}
  bool Next(std::string& line) {
    if (!std::getline(in_, line)) return false;
    ++number_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  }
  std::int64_t number() const { return number_; }

 private:
  std::istream& in_;
  std::int64_t number_ = 0;
};

// One CSV record (RFC 4180: quoted cells may hold commas, quotes and newlines).
bool NextCsv(Lines& lines, Row& row, std::vector<std::string>& cells, std::string& error) {
  std::string line;
  if (!lines.Next(line)) return false;
  row.line = lines.number();
  cells.assign(1, std::string());
  bool quoted = false;
  for (;;) {
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted) {
        if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
          cells.back() += '"';
          ++i;
        } else if (c == '"') {
          quoted = false;
        } else {
          cells.back() += c;
        }
      } else if (c == '"' && cells.back().empty()) {
        quoted = true;
      } else if (c == ',') {
        cells.emplace_back();
      } else {
        cells.back() += c;
      }
    }
    if (!quoted) break;
    if (!lines.Next(line)) {
      error = "a quoted cell is not closed";
      break;
    }
    cells.back() += '\n';
  }
  row.end_line = lines.number();
  return true;
}

// A CSV record as the resource it stands for. kInvalidArgument naming the column.
core::Result<json::object> CsvResource(const std::vector<std::string>& header, const std::vector<std::string>& cells) {
  if (cells.size() != header.size())
    return core::InvalidArgument("row", "has " + std::to_string(cells.size()) + " cells; the header has " +
                                            std::to_string(header.size()));
  json::object o;
  json::object name;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string& column = header[i];
    const std::string& cell = cells[i];
    if (cell.empty()) continue;
    if (IsJsonColumn(column)) {
      auto v = core::ParseReceived(cell);
      if (!v) return core::InvalidArgument(column, column + " must hold JSON text: " + v.error().message);
      o[column] = std::move(*v);
    } else if (column.starts_with("name.")) {
      name[column.substr(5)] = cell;
    } else {
      o[column] = cell;  // "active" as "true"/"false", which the mapping accepts
    }
  }
  if (!name.empty()) o["name"] = std::move(name);
  return o;
}

// The Roster extension's fields on a user being imported.
core::Status ApplyRosterExtension(const json::object& resource, core::User& user,
                                  std::optional<std::string>& password_hash) {
  const auto* e = service::ResourceMember(resource, service::kRosterSchema);
  if (e == nullptr || e->is_null()) return {};
  const std::string u = std::string(service::kRosterSchema) + ":";
  if (!e->is_object()) return core::InvalidArgument(std::string(service::kRosterSchema), std::string(service::kRosterSchema) + " must be an object");
  const auto& ext = e->get_object();
  if (const auto* v = ext.if_contains("archived"); v && !v->is_null()) {
    if (!v->is_bool()) return core::InvalidArgument(u + "archived", u + "archived must be a boolean");
    user.archived = v->get_bool();
  }
  if (const auto* v = ext.if_contains("externalIds"); v && !v->is_null()) {
    if (!v->is_object()) return core::InvalidArgument(u + "externalIds", u + "externalIds must be an object");
    for (const auto& [source, id] : v->get_object()) {
      if (!id.is_string()) return core::InvalidArgument(u + "externalIds", u + "externalIds." + std::string(source) + " must be a string");
      user.external_ids[std::string(source)] = std::string(id.get_string());
    }
  }
  if (const auto* v = ext.if_contains("dialects"); v && !v->is_null()) {
    if (!v->is_object()) return core::InvalidArgument(u + "dialects", u + "dialects must be an object");
    for (const auto& [name, entry] : v->get_object()) {
      if (name == kScimDialect || !entry.is_object())
        return core::InvalidArgument(u + "dialects", u + "dialects." + std::string(name) + " must be an object of another API");
      user.dialect_json[std::string(name)] = json::serialize(entry);
    }
  }
  if (const auto* v = ext.if_contains("extras"); v && !v->is_null()) user.profile.extras_json = json::serialize(*v);
  if (const auto* v = ext.if_contains("passwordHash"); v && !v->is_null()) {
    if (!v->is_string() || v->get_string().empty())
      return core::InvalidArgument(u + "passwordHash", u + "passwordHash must be a non-empty string");
    std::string hash(v->get_string());
    // Roster's own argon2id PHC string is kept as it is; anything else must be one of
    // the "{SCHEME}..." encodings PingOne accepts (crypto/legacy_password.h).
    const bool native = hash.starts_with("$argon2id$");
    if (auto st = crypto::CheckLegacyPasswordFormat(native ? "{ARGON2}" + hash : hash); !st)
      return core::InvalidArgument(u + "passwordHash", u + "passwordHash: " + st.error().message);
    password_hash = std::move(hash);
  }
  return {};
}

// ---- import: progress -------------------------------------------------------------

class Progress {
 public:
  Progress(bool enabled, std::int64_t total_lines)
      : enabled_(enabled), tty_(::isatty(2) == 1), total_(total_lines), start_(Clock::now()), last_(start_) {}

  void Update(std::int64_t line, std::int64_t imported, std::int64_t refused, bool final = false) {
    if (!enabled_) return;
    const auto now = Clock::now();
    // On a terminal the bar moves five times a second; otherwise a line per second at
    // most, the first as soon as the first batch has committed.
    const double interval = tty_ ? 0.2 : 1.0;
    if (!final && printed_ && std::chrono::duration<double>(now - last_).count() < interval) return;
    printed_ = true;
    last_ = now;
    const double elapsed = std::max(1e-3, std::chrono::duration<double>(now - start_).count());
    const double rate = static_cast<double>(imported) / elapsed;
    const double fraction = total_ > 0 ? std::min(1.0, static_cast<double>(line) / static_cast<double>(total_)) : 1.0;
    const double lines_rate = static_cast<double>(line - first_line_) / elapsed;
    const double eta = lines_rate > 0 ? static_cast<double>(total_ - line) / lines_rate : 0;
    char buf[256];
    if (tty_) {
      constexpr int kWidth = 30;
      const int filled = static_cast<int>(fraction * kWidth);
      std::string bar(filled, '#');
      bar.resize(kWidth, '-');
      std::snprintf(buf, sizeof buf, "\r[%s] %3.0f%% line %lld/%lld  %lld imported  %lld refused  %.0f users/s  ETA %.0fs ",
                    bar.c_str(), fraction * 100, static_cast<long long>(line), static_cast<long long>(total_),
                    static_cast<long long>(imported), static_cast<long long>(refused), rate, final ? 0.0 : eta);
      std::cerr << buf << (final ? "\n" : "") << std::flush;
    } else {
      std::snprintf(buf, sizeof buf, "progress: line %lld/%lld (%.0f%%), %lld imported, %lld refused, %.0f users/s, ETA %.0fs\n",
                    static_cast<long long>(line), static_cast<long long>(total_), fraction * 100,
                    static_cast<long long>(imported), static_cast<long long>(refused), rate, final ? 0.0 : eta);
      std::cerr << buf << std::flush;
    }
  }
  void StartAt(std::int64_t line) { first_line_ = line; }
  // A refusal line must not land in the middle of the bar.
  void BeforeMessage() const {
    if (enabled_ && tty_) std::cerr << "\r\033[K";
  }

 private:
  bool enabled_, tty_;
  bool printed_ = false;
  std::int64_t total_;
  std::int64_t first_line_ = 0;
  Clock::time_point start_, last_;
};

// The file's identity for the checkpoint: a SHA-256 chain over its lines (no whole-file
// read into memory), and how many lines it has.
std::pair<std::string, std::int64_t> FileDigest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::string state, line;
  std::int64_t lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    state = crypto::Digest(crypto::MacAlgorithm::kSha256, state + line + "\n");
  }
  return {crypto::ToHex(state), lines};
}

template <class T>
T OrThrow(core::Result<T> r, const std::string& what) {
  if (!r) throw std::runtime_error(what + ": " + r.error().message);
  return std::move(*r);
}

}  // namespace

json::object Export(const service::Services& s, const ExportOptions& options, service::AuditLog* audit) {
  if (options.format != "jsonl" && options.format != "csv") throw std::runtime_error("--format must be jsonl or csv");
  auto env = OrThrow(s.directory.ResolveEnvironment(options.environment), "environment " + options.environment);
  auto schema = OrThrow(service::LoadAttributeSchema(s.records, env.id), "attribute schema");
  if (audit) {
    // Recorded first: every profile that leaves in the file is on the chain before it does.
    const std::uint32_t fields = service::kAuditProfile | service::kAuditPhi |
                                 (options.with_password_hashes ? service::kAuditPassword : 0u);
    if (auto st = audit->Record(audit->CommandRow(env.id, "export", "users.export", "", nullptr, fields)); !st)
      throw std::runtime_error("audit record: " + st.error().message);
  }
  std::unique_ptr<std::ofstream> file;
  std::string partial;
  if (!options.out.empty()) {
    partial = options.out + ".partial";
    file = std::make_unique<std::ofstream>(partial, std::ios::binary | std::ios::trunc);
    if (!*file) throw std::runtime_error("cannot write " + partial);
  }
  std::ostream& out = file ? *file : std::cout;
  const bool csv = options.format == "csv";
  if (csv) out << CsvLine(CsvHeader());
  const auto unreadable_before = service::UnreadableRows("user");
  std::int64_t exported = 0, after = 0;
  do {
    auto page = OrThrow(s.users.List(env.id, after, kExportPage), "list users");
    for (const auto& user : page.users) {
      std::optional<std::string> hash;
      if (options.with_password_hashes) {
        auto h = s.users.PasswordHashOf(env.id, user.id);
        if (h) hash = std::move(*h);
        else if (h.error().code != core::ErrorCode::kNotFound) throw std::runtime_error("password hash: " + h.error().message);
      }
      const json::object resource = ExportResource(user, schema, std::move(hash));
      if (csv) out << CsvRow(resource);
      else out << json::serialize(resource) << '\n';
      ++exported;
    }
    after = page.next_after;
  } while (after != 0);
  out.flush();
  if (!out) throw std::runtime_error("writing the export failed");
  if (file) {
    file->close();
    if (std::rename(partial.c_str(), options.out.c_str()) != 0) throw std::runtime_error("cannot write " + options.out);
  }
  return json::object{{"environment", env.name},
                      {"format", options.format},
                      {"exported", exported},
                      {"unreadable", static_cast<std::int64_t>(service::UnreadableRows("user") - unreadable_before)}};
}

json::object Import(const service::Services& s, const ImportOptions& options, service::AuditLog* audit) {
  std::string format = options.format;
  if (format.empty()) format = options.file.ends_with(".csv") ? "csv" : "jsonl";
  if (format != "jsonl" && format != "csv") throw std::runtime_error("--format must be jsonl or csv");
  if (options.batch_size < 1) throw std::runtime_error("the batch size must be positive");
  auto env = OrThrow(s.directory.ResolveEnvironment(options.environment), "environment " + options.environment);
  // Users already there whose entries follow an older derivation are brought up first, as
  // `serve` would at its next start; then the environment is recorded at the current one,
  // which is what this import writes (else that start would re-derive every imported user).
  OrThrow(service::EnsureSearchIndexed(s.users, s.records, env.id), "search index");
  auto schema = OrThrow(service::LoadAttributeSchema(s.records, env.id), "attribute schema");
  const auto [digest, total_lines] = FileDigest(options.file);

  // The checkpoint: the last line a committed batch covered, written in that batch's
  // transaction, so a run killed at any point resumes exactly after what landed.
  const std::vector<service::Claim> claims{{kCheckpointClaim, digest, true}};
  service::Record checkpoint;
  auto found = OrThrow(s.records.Find(env.id, kCheckpointClaim, digest), "checkpoint");
  if (!found.empty()) {
    checkpoint = found.front();
  } else {
    service::NewRecordRequest request;
    request.environment_id = env.id;
    request.kind = kCheckpointKind;
    request.body = json::object{{"line", 0}, {"done", false}};
    request.claims = claims;
    checkpoint = OrThrow(s.records.Create(request), "checkpoint");
  }
  auto body_int = [&](const char* key) -> std::int64_t {
    const auto* v = checkpoint.body.if_contains(key);
    return v && v->is_int64() ? v->get_int64() : 0;
  };
  const std::int64_t resume_after = body_int("line");
  std::int64_t imported = 0, refused = 0, skipped = 0;
  json::array errors;
  bool stopped = false;

  std::ifstream in(options.file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + options.file);
  Lines lines(in);
  Progress progress(options.progress, total_lines);
  progress.StartAt(resume_after);

  struct Pending {
    std::int64_t line;
    service::CreateUserRequest request;
  };
  std::vector<Pending> batch;
  std::int64_t batch_end_line = resume_after;

  auto refuse = [&](std::int64_t line, const std::string& field, const std::string& message) {
    ++refused;
    progress.BeforeMessage();
    std::cerr << "line " << line << ": " << (field.empty() ? "-" : field) << ": " << message << "\n";
    errors.push_back(json::object{{"line", line}, {"field", field}, {"message", message}});
    if (options.max_errors > 0 && refused >= options.max_errors) stopped = true;
  };

  std::int64_t committed_line = resume_after;
  auto commit = [&]() {
    if (batch.empty() && batch_end_line == committed_line) return;
    std::vector<service::CreateUserRequest> requests;
    requests.reserve(batch.size());
    for (auto& p : batch) requests.push_back(std::move(p.request));
    service::Record next = checkpoint;
    next.version = checkpoint.version + 1;
    next.body = json::object{{"line", batch_end_line}, {"done", false}};
    auto update = OrThrow(s.records.PrepareUpdate(next, claims), "checkpoint");
    auto statuses = OrThrow(s.users.CreateBatch(env.id, requests, std::move(update)), "import batch");
    checkpoint = std::move(next);
    committed_line = batch_end_line;
    for (std::size_t i = 0; i < statuses.size(); ++i) {
      if (statuses[i]) ++imported;
      else refuse(batch[i].line, statuses[i].error().field, statuses[i].error().message);
    }
    batch.clear();
  };

  std::vector<std::string> header;
  std::vector<std::string> cells;
  std::string text;
  for (;;) {
    if (stopped) break;
    Row row;
    std::string error;
    bool more;
    core::Result<json::object> resource = json::object();
    if (format == "csv") {
      more = NextCsv(lines, row, cells, error);
      if (!more) break;
      if (header.empty()) {
        header = cells;
        for (const auto& column : header) {
          const auto simple = std::find(std::begin(kSimpleColumns), std::end(kSimpleColumns), column);
          if (simple == std::end(kSimpleColumns) && !IsJsonColumn(column))
            throw std::runtime_error("line 1: unknown column '" + column + "'");
        }
        if (batch_end_line < row.end_line) batch_end_line = row.end_line;
        continue;
      }
      if (row.line <= resume_after) {
        ++skipped;
        continue;
      }
      if (!error.empty()) resource = core::InvalidArgument("row", error);
      else resource = CsvResource(header, cells);
    } else {
      more = lines.Next(text);
      if (!more) break;
      row.line = row.end_line = lines.number();
      if (row.line <= resume_after) {
        ++skipped;
        continue;
      }
      if (text.find_first_not_of(" \t") == std::string::npos) {
        batch_end_line = row.end_line;
        continue;
      }
      auto v = core::ParseReceived(text);
      if (!v) resource = core::InvalidArgument("", "not a JSON object: " + v.error().message);
      else if (!v->is_object()) resource = core::InvalidArgument("", "not a JSON object");
      else resource = std::move(v->get_object());
    }
    batch_end_line = row.end_line;
    if (!resource) {
      refuse(row.line, resource.error().field, resource.error().message);
      continue;
    }
    service::CreateUserRequest request;
    request.environment_id = env.id;
    if (audit) request.options.audit = audit->CommandRow(env.id, "import", "user.create", "", nullptr, 0);
    auto input = service::ApplyUserResource(*resource, request.user, &schema);
    if (!input) {
      refuse(row.line, input.error().field, input.error().message);
      continue;
    }
    std::optional<std::string> hash;
    if (auto st = ApplyRosterExtension(*resource, request.user, hash); !st) {
      refuse(row.line, st.error().field, st.error().message);
      continue;
    }
    if (hash && input->password) {
      refuse(row.line, "password", "give a password or a passwordHash, not both");
      continue;
    }
    request.password = input->password;
    request.imported_password_hash = std::move(hash);
    batch.push_back({row.line, std::move(request)});
    if (static_cast<int>(batch.size()) >= options.batch_size) {
      commit();
      progress.Update(batch_end_line, imported, refused);
    }
  }
  commit();
  if (!stopped) {
    // Done: a re-run of the same file finds nothing left to import.
    service::Record next = checkpoint;
    next.version = checkpoint.version + 1;
    next.body["done"] = true;
    next.body["line"] = std::max(lines.number(), resume_after);
    auto update = OrThrow(s.records.PrepareUpdate(next, claims), "checkpoint");
    OrThrow(s.users.CreateBatch(env.id, {}, std::move(update)), "checkpoint");
  }
  progress.Update(lines.number(), imported, refused, true);
  return json::object{{"environment", env.name},
                      {"file", options.file},
                      {"format", format},
                      {"imported", imported},
                      {"refused", refused},
                      {"skipped", skipped},
                      {"resumedAfterLine", resume_after},
                      {"stopped", stopped},
                      {"errors", std::move(errors)}};
}

}  // namespace roster::cli

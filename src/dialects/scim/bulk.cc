// POST /scim/v2/Bulk (RFC 7644 §3.7): a BulkRequest's operations run one by one through
// the same resource functions as the routes (resources.h), so an operation is exactly
// the request it stands for, with its status, errors and authority. Each operation is
// its own write (one transaction, as the request alone would be): the RFC does not make
// a bulk request atomic, and a failed operation leaves the ones before it in place.
//
// bulkId references: a string value "bulkId:<id>" anywhere in an operation's `data`, or
// as the id segment of its `path`, stands for the id of the resource the POST operation
// with that bulkId created. Operations run in request order, except that one waits for
// the operations whose bulkIds it names (a forward reference); a reference to a bulkId no
// operation declares, or whose operation failed, fails the operation with 409
// invalidValue; operations that wait on each other (a cycle) fail with 409 as §3.7.1
// allows. `failOnErrors` stops the run at that many errors; operations not run are left
// out of the response. maxOperations and maxPayloadSize (common.h, advertised by
// /ServiceProviderConfig) are enforced here: above either, 413 in the error shape.
#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dialects/scim/common.h"
#include "dialects/scim/resources.h"
#include "http/etag.h"

namespace roster::dialects::scim {
namespace {

namespace json = boost::json;

// One resource endpoint as Bulk reaches it. A resource type is one line of kEndpoints.
struct Endpoint {
  std::string_view name;  // the path segment: "Users"
  Result (*create)(const Context&, const json::object&);
  Result (*replace)(const Context&, const std::string&, const json::object&, const Precondition&);
  Result (*patch)(const Context&, const std::string&, const json::object&, const Precondition&);
  Result (*remove)(const Context&, const std::string&, const Precondition&);
};

constexpr Endpoint kEndpoints[] = {
    {"Users", CreateUser, ReplaceUser, PatchUser, DeleteUser},
    {"Groups", CreateGroup, ReplaceGroup, PatchGroup, DeleteGroup},
};

constexpr std::string_view kReference = "bulkId:";

enum class Method { kPost, kPut, kPatch, kDelete };

// One operation as read from the request, before it runs.
struct Operation {
  std::size_t index = 0;
  std::string method_text;  // as the response names it: upper case
  std::optional<Method> method;
  std::string bulk_id;
  std::string path;
  std::string version;
  const json::value* data = nullptr;
  std::set<std::string> references;  // bulkIds it names
  std::optional<Error> malformed;    // fails without running
};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::optional<Method> MethodOf(std::string_view upper) {
  if (upper == "POST") return Method::kPost;
  if (upper == "PUT") return Method::kPut;
  if (upper == "PATCH") return Method::kPatch;
  if (upper == "DELETE") return Method::kDelete;
  return std::nullopt;
}

// Every "bulkId:<id>" string in `v`.
void CollectReferences(const json::value& v, std::set<std::string>& out) {
  if (v.is_string()) {
    const std::string_view s = v.get_string();
    if (s.starts_with(kReference) && s.size() > kReference.size()) out.emplace(s.substr(kReference.size()));
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) CollectReferences(e, out);
  } else if (v.is_object()) {
    for (const auto& m : v.get_object()) CollectReferences(m.value(), out);
  }
}

// `v` with every "bulkId:<id>" string replaced by the created resource's id.
void Resolve(json::value& v, const std::map<std::string, std::string>& created) {
  if (v.is_string()) {
    const std::string_view s = v.get_string();
    if (s.starts_with(kReference))
      if (auto it = created.find(std::string(s.substr(kReference.size()))); it != created.end()) v = it->second;
  } else if (v.is_array()) {
    for (auto& e : v.get_array()) Resolve(e, created);
  } else if (v.is_object()) {
    for (auto& m : v.get_object()) Resolve(m.value(), created);
  }
}

Operation Read(const json::value& v, std::size_t index) {
  Operation op;
  op.index = index;
  if (!v.is_object()) {
    op.malformed = BadRequest("invalidSyntax", "each operation must be an object");
    return op;
  }
  const json::object& o = v.get_object();
  const json::value* method = Member(o, "method");
  if (method == nullptr || !method->is_string()) {
    op.malformed = BadRequest("invalidSyntax", "method is required: POST, PUT, PATCH or DELETE");
    return op;
  }
  op.method_text = Upper(method->get_string());
  op.method = MethodOf(op.method_text);
  if (!op.method) {
    op.malformed = BadRequest("invalidValue", "method must be POST, PUT, PATCH or DELETE");
    return op;
  }
  if (const json::value* b = Member(o, "bulkId"); b != nullptr && !b->is_null()) {
    if (!b->is_string() || b->get_string().empty()) {
      op.malformed = BadRequest("invalidValue", "bulkId must be a non-empty string");
      return op;
    }
    op.bulk_id = std::string(b->get_string());
  }
  if (*op.method == Method::kPost && op.bulk_id.empty()) {
    op.malformed = BadRequest("invalidSyntax", "bulkId is required for POST");
    return op;
  }
  const json::value* path = Member(o, "path");
  if (path == nullptr || !path->is_string() || path->get_string().empty()) {
    op.malformed = BadRequest("invalidPath", "path is required, e.g. /Users or /Users/{id}");
    return op;
  }
  op.path = std::string(path->get_string());
  if (const json::value* version = Member(o, "version"); version != nullptr && !version->is_null()) {
    if (!version->is_string()) {
      op.malformed = BadRequest("invalidValue", "version must be an entity tag such as W/\"3\"");
      return op;
    }
    op.version = std::string(version->get_string());
  }
  op.data = Member(o, "data");
  if (*op.method != Method::kDelete) {
    if (op.data == nullptr || !op.data->is_object()) {
      op.malformed = BadRequest("invalidSyntax", "data is required for " + op.method_text + " and must be an object");
      return op;
    }
    CollectReferences(*op.data, op.references);
  }
  if (const std::size_t at = op.path.find(kReference); at != std::string::npos)
    op.references.emplace(op.path.substr(at + kReference.size()));
  return op;
}

// "/Users" or "/Users/{id}": the endpoint and the id (empty for the first).
struct Target {
  const Endpoint* endpoint = nullptr;
  std::string id;
};

Outcome<Target> TargetOf(std::string_view path, Method method) {
  if (!path.starts_with('/')) return Fail(BadRequest("invalidPath", "path must start with /: " + std::string(path)));
  path.remove_prefix(1);
  const std::size_t slash = path.find('/');
  const std::string_view name = path.substr(0, slash);
  const std::string_view id = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  Target t;
  for (const Endpoint& e : kEndpoints)
    if (IEquals(e.name, name)) t.endpoint = &e;
  if (t.endpoint == nullptr) return Fail(NotFoundError("no resource endpoint /" + std::string(name)));
  if (method == Method::kPost) {
    if (slash != std::string_view::npos)
      return Fail(BadRequest("invalidPath", "POST takes a resource endpoint, e.g. /" + std::string(t.endpoint->name)));
    return t;
  }
  if (id.empty() || id.find('/') != std::string_view::npos)
    return Fail(BadRequest("invalidPath", "path must name one resource, e.g. /" + std::string(t.endpoint->name) + "/{id}"));
  t.id = std::string(id);
  return t;
}

Result Run(const Context& ctx, const Operation& op, const Target& target, const json::object& data) {
  if (*op.method == Method::kPost) return target.endpoint->create(ctx, data);
  auto precondition = op.version.empty() ? Outcome<Precondition>(std::nullopt) : PreconditionOf(op.version);
  if (!precondition) return Fail(precondition.error());
  switch (*op.method) {
    case Method::kPut: return target.endpoint->replace(ctx, target.id, data, *precondition);
    case Method::kPatch: return target.endpoint->patch(ctx, target.id, data, *precondition);
    case Method::kDelete: return target.endpoint->remove(ctx, target.id, *precondition);
    case Method::kPost: break;
  }
  return Fail(BadRequest("invalidValue", "method must be POST, PUT, PATCH or DELETE"));
}

json::object Entry(const Operation& op) {
  json::object out;
  out["method"] = op.method_text.empty() ? "UNKNOWN" : op.method_text;
  if (!op.bulk_id.empty()) out["bulkId"] = op.bulk_id;
  return out;
}

json::object Failed(const Operation& op, const Error& e) {
  json::object out = Entry(op);
  out["status"] = std::to_string(e.status);
  out["response"] = ErrorBody(e);
  return out;
}

}  // namespace

Result Bulk(const Context& ctx, const http::Request& req) {
  // Checked before parsing: a body above the advertised maxPayloadSize is refused whole.
  if (req.body.size() > ctx.max_payload)
    return Fail(Error{413, "", "The size of the bulk operation (" + std::to_string(req.body.size()) +
                                   " bytes) exceeds the maxPayloadSize (" + std::to_string(ctx.max_payload) + ")."});
  auto parsed = ParseBody(req);
  if (!parsed) return Fail(parsed.error());
  const json::object& body = *parsed;
  if (auto st = RequireSchema(body, kBulkRequestSchema); !st) return Fail(st.error());
  std::optional<std::int64_t> fail_on_errors;
  if (const json::value* f = Member(body, "failOnErrors"); f != nullptr && !f->is_null()) {
    if (!f->is_int64() && !f->is_uint64())
      return Fail(BadRequest("invalidValue", "failOnErrors must be a positive integer"));
    const std::int64_t n = f->is_int64() ? f->get_int64() : static_cast<std::int64_t>(f->get_uint64());
    if (n < 1) return Fail(BadRequest("invalidValue", "failOnErrors must be a positive integer"));
    fail_on_errors = n;
  }
  const json::value* ops = Member(body, "Operations");
  if (ops == nullptr || !ops->is_array())
    return Fail(BadRequest("invalidSyntax", "Operations is required and must be an array"));
  const json::array& list = ops->get_array();
  if (list.size() > static_cast<std::size_t>(kMaxOperations))
    return Fail(Error{413, "", "The number of operations (" + std::to_string(list.size()) +
                                   ") exceeds the maxOperations (" + std::to_string(kMaxOperations) + ")."});

  std::vector<Operation> operations;
  operations.reserve(list.size());
  std::map<std::string, std::size_t> declared;  // bulkId -> the POST operation declaring it
  for (std::size_t i = 0; i < list.size(); ++i) {
    operations.push_back(Read(list[i], i));
    const Operation& op = operations.back();
    if (op.bulk_id.empty() || op.method != Method::kPost) continue;
    if (!declared.emplace(op.bulk_id, i).second)
      return Fail(BadRequest("invalidValue", "bulkId \"" + op.bulk_id + "\" is used by more than one operation"));
  }

  std::map<std::string, std::string> created;  // bulkId -> id
  std::set<std::string> failed;                // bulkIds whose POST failed
  std::vector<std::optional<json::object>> results(operations.size());
  std::vector<bool> done(operations.size(), false);
  std::int64_t errors = 0;
  std::size_t left = operations.size();

  // Records an operation's outcome; false once failOnErrors is reached.
  const auto finish = [&](const Operation& op, json::object entry, bool ok) {
    results[op.index] = std::move(entry);
    done[op.index] = true;
    --left;
    if (!ok) {
      if (!op.bulk_id.empty() && op.method == Method::kPost) failed.insert(op.bulk_id);
      ++errors;
    }
    return !(fail_on_errors && errors >= *fail_on_errors);
  };

  bool stop = false;
  while (left > 0 && !stop) {
    bool progressed = false;
    for (Operation& op : operations) {
      if (done[op.index] || stop) continue;
      if (op.malformed) {
        progressed = true;
        stop = !finish(op, Failed(op, *op.malformed), false);
        continue;
      }
      // Wait for the operations this one names; fail on a reference that cannot resolve.
      std::optional<Error> broken;
      bool waiting = false;
      for (const std::string& ref : op.references) {
        if (created.contains(ref)) continue;
        if (failed.contains(ref)) {
          broken = Error{409, "invalidValue", "bulkId:" + ref + " names an operation that failed"};
        } else if (!declared.contains(ref)) {
          broken = Error{409, "invalidValue", "bulkId:" + ref + " is not the bulkId of any POST operation"};
        } else {
          waiting = true;
          continue;
        }
        break;
      }
      if (broken) {
        progressed = true;
        stop = !finish(op, Failed(op, *broken), false);
        continue;
      }
      if (waiting) continue;

      progressed = true;
      json::object data = op.data != nullptr && op.data->is_object() ? op.data->get_object() : json::object{};
      std::string path = op.path;
      if (!op.references.empty()) {
        json::value resolved = std::move(data);
        Resolve(resolved, created);
        data = std::move(resolved.get_object());
        for (const auto& [ref, id] : created)
          if (const std::size_t at = path.find(std::string(kReference) + ref); at != std::string::npos)
            path.replace(at, kReference.size() + ref.size(), id);
      }
      auto target = TargetOf(path, *op.method);
      if (!target) {
        stop = !finish(op, Failed(op, target.error()), false);
        continue;
      }
      auto reply = Run(ctx, op, *target, data);
      if (!reply) {
        json::object entry = Failed(op, reply.error());
        if (*op.method != Method::kPost) entry["location"] = ctx.base + "/" + std::string(target->endpoint->name) + "/" + target->id;
        stop = !finish(op, std::move(entry), false);
        continue;
      }
      json::object entry = Entry(op);
      std::string id = target->id;
      if (*op.method == Method::kPost) {
        if (reply->body.is_object())
          if (const auto* made = reply->body.get_object().if_contains("id"); made != nullptr && made->is_string())
            id = std::string(made->get_string());
        created.emplace(op.bulk_id, id);
      }
      entry["location"] = reply->location.empty()
                              ? ctx.base + "/" + std::string(target->endpoint->name) + "/" + id
                              : reply->location;
      if (reply->version) entry["version"] = http::WeakETag(*reply->version);
      entry["status"] = std::to_string(reply->status);
      stop = !finish(op, std::move(entry), true);
    }
    if (!progressed) {
      // Every operation left waits on another one left: a cycle (§3.7.1 allows 409).
      for (Operation& op : operations) {
        if (done[op.index] || stop) continue;
        stop = !finish(op, Failed(op, Error{409, "invalidValue", "circular bulkId references cannot be resolved"}),
                       false);
      }
    }
  }

  json::array out;
  for (auto& r : results)
    if (r) out.push_back(std::move(*r));
  return Reply{200, json::object{{"schemas", json::array{kBulkResponseSchema}}, {"Operations", std::move(out)}}, {}, {}};
}

}  // namespace roster::dialects::scim

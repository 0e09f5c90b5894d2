#include "dialects/scim/patch.h"

#include <algorithm>
#include <cctype>

#include "query/evaluate.h"
#include "query/scim.h"

namespace roster::dialects::scim {
namespace json = boost::json;

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool StartsWithI(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && IEquals(s.substr(0, prefix.size()), prefix);
}

json::object::iterator FindKey(json::object& o, std::string_view name) {
  for (auto it = o.begin(); it != o.end(); ++it)
    if (IEquals(it->key(), name)) return it;
  return o.end();
}

bool IsName(std::string_view n) {
  return !n.empty() && n.size() <= 64 && std::isalpha(static_cast<unsigned char>(n.front())) &&
         std::all_of(n.begin(), n.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '$';
         });
}

Error InvalidPath(std::string_view text, std::string_view why) {
  return BadRequest("invalidPath", "path '" + std::string(text.substr(0, 200)) + "' " + std::string(why));
}

// ---- a value filter over one element -------------------------------------------------

query::Values ToValues(const json::value& v);

query::Value ToValue(const json::value& v) {
  if (v.is_bool()) return query::Boolean(v.get_bool());
  if (v.is_number()) return query::Numeric(v.to_number<double>());
  if (v.is_string()) return query::Text(std::string(v.get_string()));
  query::Value c;
  c.type = query::Value::Type::kComplex;
  if (v.is_object())
    for (const auto& [k, m] : v.get_object()) {
      for (auto& one : ToValues(m)) c.members.push_back({Lower(k), std::move(one)});
    }
  return c;
}

query::Values ToValues(const json::value& v) {
  query::Values out;
  if (v.is_null()) return out;
  if (v.is_array()) {
    for (const auto& e : v.get_array())
      if (!e.is_null()) out.push_back(ToValue(e));
    return out;
  }
  out.push_back(ToValue(v));
  return out;
}

bool ElementMatches(const json::value& element, const query::Node& filter) {
  if (!element.is_object()) return false;
  const auto& o = element.get_object();
  return query::MatchesResolved(filter, [&](const query::AttrPath& path) -> query::Values {
    if (path.names.empty()) return {};
    const auto* m = Member(o, path.names.front());
    if (m == nullptr) return {};
    if (path.names.size() == 1) return ToValues(*m);
    if (!m->is_object()) return {};
    const auto* s = Member(m->get_object(), path.names[1]);
    return s == nullptr ? query::Values{} : ToValues(*s);
  });
}

// The element a filter of `eq` comparisons (and-ed) describes, for an add through a
// filter that matched nothing; nullopt when the filter is anything else.
std::optional<json::object> ElementOf(const query::Node& filter) {
  json::object out;
  std::vector<const query::Node*> stack{&filter};
  while (!stack.empty()) {
    const query::Node* n = stack.back();
    stack.pop_back();
    if (n->kind == query::Node::Kind::kAnd) {
      for (const auto& c : n->children) stack.push_back(&c);
      continue;
    }
    if (n->kind != query::Node::Kind::kCompare || n->op != query::Op::kEq || n->path.names.size() != 1) return std::nullopt;
    const auto& lit = n->value;
    switch (lit.kind) {
      case query::Literal::Kind::kString: out[n->path.names.front()] = lit.text; break;
      case query::Literal::Kind::kBool: out[n->path.names.front()] = lit.boolean; break;
      case query::Literal::Kind::kNumber: out[n->path.names.front()] = lit.number; break;
      case query::Literal::Kind::kNull: return std::nullopt;
    }
  }
  return out;
}

// ---- applying -------------------------------------------------------------------------

struct Applier {
  json::object& resource;
  const PatchTarget& target;

  bool ReadOnly(const PatchPath& p) const {
    if (!p.urn.empty()) return false;
    for (auto r : target.read_only)
      if (IEquals(r, p.attr)) return true;
    return false;
  }

  // The object holding the path's attribute: the resource, or an extension (created
  // when `create`, and then listed in `schemas`).
  json::object* Holder(const PatchPath& p, bool create) {
    if (p.urn.empty()) return &resource;
    auto it = FindKey(resource, p.urn);
    if (it == resource.end()) {
      if (!create) return nullptr;
      resource[p.urn] = json::object();
      auto& schemas = resource["schemas"];
      if (!schemas.is_array()) schemas = json::array();
      bool listed = false;
      for (const auto& s : schemas.get_array())
        if (s.is_string() && IEquals(s.get_string(), p.urn)) listed = true;
      if (!listed) schemas.get_array().push_back(json::string(p.urn));
      it = FindKey(resource, p.urn);
    }
    if (!it->value().is_object()) it->value() = json::object();
    return &it->value().get_object();
  }

  static void KeepOnePrimary(json::array& a, std::size_t preferred) {
    std::size_t count = 0;
    for (const auto& e : a)
      if (e.is_object())
        if (const auto* p = e.get_object().if_contains("primary"); p && p->is_bool() && p->get_bool()) ++count;
    if (count <= 1) return;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (i != preferred && a[i].is_object())
        if (auto* p = a[i].get_object().if_contains("primary"); p && p->is_bool()) *p = false;
  }

  static void Append(json::array& a, const json::value& v) {
    if (std::find(a.begin(), a.end(), v) == a.end()) a.push_back(v);
  }

  Outcome<void> Set(const PatchPath& p, const json::value& value, PatchOperation::Op op) {
    const bool add = op == PatchOperation::Op::kAdd;
    if (p.attr.empty()) {  // a whole extension
      if (!value.is_object()) return Fail(BadRequest("invalidValue", p.urn + " must be an object"));
      json::object* h = Holder(p, true);
      if (!add) h->clear();
      for (const auto& [k, v] : value.get_object()) (*h)[k] = v;
      return {};
    }
    json::object* h = Holder(p, true);
    auto it = FindKey(*h, p.attr);
    if (p.filter) {
      if (it == h->end() || !it->value().is_array()) {
        if (it != h->end() && !it->value().is_null())
          return Fail(BadRequest("invalidPath", p.attr + " is not multi-valued"));
        (*h)[p.attr] = json::array();
        it = FindKey(*h, p.attr);
      }
      auto& a = it->value().get_array();
      bool matched = false;
      std::size_t last = 0;
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (!ElementMatches(a[i], *p.filter)) continue;
        matched = true;
        last = i;
        if (!p.sub.empty()) {
          auto s = FindKey(a[i].get_object(), p.sub);
          if (s != a[i].get_object().end()) s->value() = value;
          else a[i].get_object()[p.sub] = value;
        } else if (add && value.is_object()) {
          for (const auto& [k, v] : value.get_object()) a[i].get_object()[k] = v;
        } else {
          a[i] = value;
        }
      }
      if (!matched) {
        if (!add) return Fail(BadRequest("noTarget", "no value of " + p.attr + " matches the path's filter"));
        auto element = ElementOf(*p.filter);
        if (!element) return Fail(BadRequest("noTarget", "no value of " + p.attr + " matches the path's filter"));
        if (!p.sub.empty()) (*element)[p.sub] = value;
        else if (value.is_object())
          for (const auto& [k, v] : value.get_object()) (*element)[k] = v;
        else
          return Fail(BadRequest("invalidValue", "value must be an object for " + p.attr));
        a.push_back(std::move(*element));
        last = a.size() - 1;
      }
      KeepOnePrimary(a, last);
      return {};
    }
    if (!p.sub.empty()) {
      if (it == h->end() || it->value().is_null()) {
        (*h)[p.attr] = json::object{{p.sub, value}};
        return {};
      }
      auto set_sub = [&](json::value& e) {
        if (!e.is_object()) return;
        auto s = FindKey(e.get_object(), p.sub);
        if (s != e.get_object().end()) s->value() = value;
        else e.get_object()[p.sub] = value;
      };
      if (it->value().is_array()) {
        for (auto& e : it->value().get_array()) set_sub(e);
      } else if (it->value().is_object()) {
        set_sub(it->value());
      } else {
        return Fail(BadRequest("invalidPath", p.attr + " has no sub-attributes"));
      }
      return {};
    }
    if (it == h->end() || it->value().is_null()) {
      (*h)[p.attr] = value;
      return {};
    }
    json::value& current = it->value();
    if (current.is_array()) {
      if (add) {
        if (value.is_array())
          for (const auto& v : value.get_array()) Append(current.get_array(), v);
        else
          Append(current.get_array(), value);
      } else {
        current = value.is_array() ? value : json::value(json::array{value});
      }
      if (!current.get_array().empty()) KeepOnePrimary(current.get_array(), current.get_array().size() - 1);
      return {};
    }
    if (current.is_object() && value.is_object()) {
      // A complex attribute: the sub-attributes given replace theirs; the others stay
      // (RFC 7644 §3.5.2.1 and §3.5.2.3 alike).
      for (const auto& [k, v] : value.get_object()) current.get_object()[k] = v;
      return {};
    }
    current = value;
    return {};
  }

  Outcome<void> Remove(const PatchPath& p, const json::value& value) {
    if (p.attr.empty()) {
      if (auto it = FindKey(resource, p.urn); it != resource.end()) resource.erase(it);
      if (auto* schemas = resource.if_contains("schemas"); schemas && schemas->is_array()) {
        auto& a = schemas->get_array();
        a.erase(std::remove_if(a.begin(), a.end(),
                               [&](const json::value& s) { return s.is_string() && IEquals(s.get_string(), p.urn); }),
                a.end());
      }
      return {};
    }
    json::object* h = Holder(p, false);
    if (h == nullptr) return {};
    auto it = FindKey(*h, p.attr);
    if (it == h->end()) return {};
    if (p.filter) {
      if (!it->value().is_array()) return {};
      auto& a = it->value().get_array();
      if (p.sub.empty()) {
        a.erase(std::remove_if(a.begin(), a.end(), [&](const json::value& e) { return ElementMatches(e, *p.filter); }),
                a.end());
      } else {
        for (auto& e : a)
          if (ElementMatches(e, *p.filter))
            if (auto s = FindKey(e.get_object(), p.sub); s != e.get_object().end()) e.get_object().erase(s);
      }
      if (a.empty()) h->erase(it);
      return {};
    }
    if (!p.sub.empty()) {
      auto strip = [&](json::value& e) {
        if (!e.is_object()) return;
        if (auto s = FindKey(e.get_object(), p.sub); s != e.get_object().end()) e.get_object().erase(s);
      };
      if (it->value().is_array())
        for (auto& e : it->value().get_array()) strip(e);
      else
        strip(it->value());
      return {};
    }
    // Microsoft Entra ID removes group members with a value and no filter:
    // {"op":"Remove","path":"members","value":[{"value":"<id>"}]}. Remove those values.
    if (it->value().is_array() && value.is_array() && !value.get_array().empty()) {
      auto& a = it->value().get_array();
      for (const auto& v : value.get_array()) {
        const json::value* key = v.is_object() ? Member(v.get_object(), "value") : &v;
        a.erase(std::remove_if(a.begin(), a.end(),
                               [&](const json::value& e) {
                                 if (e == v) return true;
                                 if (key == nullptr || !e.is_object()) return false;
                                 const auto* ev = Member(e.get_object(), "value");
                                 return ev != nullptr && *ev == *key;
                               }),
                a.end());
      }
      if (a.empty()) h->erase(it);
      return {};
    }
    h->erase(it);
    return {};
  }
};

}  // namespace

Outcome<PatchPath> ParsePatchPath(std::string_view text, const PatchTarget* target) {
  PatchPath p;
  std::string_view head = text;
  std::string_view tail;
  if (const auto open = text.find('['); open != std::string_view::npos) {
    const auto close = text.find(']', open);
    if (close == std::string_view::npos) return Fail(InvalidPath(text, "has '[' without ']'"));
    head = text.substr(0, open);
    auto filter = query::ParseScimFilter(text.substr(open + 1, close - open - 1));
    if (!filter) return Fail(InvalidPath(text, "has an invalid filter: " + filter.error().message));
    p.filter = std::move(*filter);
    tail = text.substr(close + 1);
    if (!tail.empty()) {
      if (tail.front() != '.' || !IsName(tail.substr(1))) return Fail(InvalidPath(text, "is malformed after ']'"));
      p.sub = std::string(tail.substr(1));
    }
  }
  if (StartsWithI(head, "urn:")) {
    std::string_view matched;
    if (target != nullptr) {
      if (IEquals(head, target->core_urn)) return Fail(InvalidPath(text, "names the whole resource"));
      for (auto ext : target->extensions)
        if (IEquals(head, ext)) {
          if (p.filter) return Fail(InvalidPath(text, "filters a whole extension"));
          p.urn = std::string(ext);
          return p;
        }
      for (auto urn : target->extensions)
        if (StartsWithI(head, urn) && head.size() > urn.size() + 1 && head[urn.size()] == ':') matched = urn;
      if (matched.empty() && StartsWithI(head, target->core_urn) && head.size() > target->core_urn.size() + 1 &&
          head[target->core_urn.size()] == ':')
        head = head.substr(target->core_urn.size() + 1);
      else if (matched.empty())
        return Fail(InvalidPath(text, "names a schema this resource does not have"));
      else {
        p.urn = std::string(matched);
        head = head.substr(matched.size() + 1);
      }
    } else {
      const auto colon = head.rfind(':');
      p.urn = std::string(head.substr(0, colon));
      head = head.substr(colon + 1);
    }
  }
  const auto dot = head.find('.');
  p.attr = std::string(head.substr(0, dot));
  if (dot != std::string_view::npos) {
    if (p.filter) return Fail(InvalidPath(text, "is malformed"));
    p.sub = std::string(head.substr(dot + 1));
    if (!IsName(p.sub)) return Fail(InvalidPath(text, "is malformed"));
  }
  if (!IsName(p.attr)) return Fail(InvalidPath(text, "is malformed"));
  if (p.urn.empty() && target != nullptr)
    for (const auto& [name, urn] : target->aliases)
      if (IEquals(name, p.attr)) p.urn = std::string(urn);
  return p;
}

Outcome<std::vector<PatchOperation>> ParsePatch(const json::object& body) {
  if (auto st = RequireSchema(body, kPatchOpSchema); !st) return Fail(st.error());
  const auto* ops = Member(body, "Operations");
  if (ops == nullptr || !ops->is_array() || ops->get_array().empty())
    return Fail(BadRequest("invalidSyntax", "Operations must be a non-empty array"));
  if (ops->get_array().size() > kMaxPatchOperations)
    return Fail(BadRequest("invalidSyntax", "Operations holds more than " + std::to_string(kMaxPatchOperations)));
  std::vector<PatchOperation> out;
  std::size_t i = 0;
  for (const auto& e : ops->get_array()) {
    const std::string label = "Operations[" + std::to_string(i++) + "]";
    if (!e.is_object()) return Fail(BadRequest("invalidSyntax", label + " must be an object"));
    const auto& o = e.get_object();
    const auto* op = Member(o, "op");
    if (op == nullptr || !op->is_string())
      return Fail(BadRequest("invalidSyntax", label + ".op must be add, remove or replace"));
    PatchOperation operation;
    if (IEquals(op->get_string(), "add")) operation.op = PatchOperation::Op::kAdd;
    else if (IEquals(op->get_string(), "remove")) operation.op = PatchOperation::Op::kRemove;
    else if (IEquals(op->get_string(), "replace")) operation.op = PatchOperation::Op::kReplace;
    else return Fail(BadRequest("invalidSyntax", label + ".op must be add, remove or replace"));
    if (const auto* path = Member(o, "path"); path != nullptr && !path->is_null()) {
      if (!path->is_string()) return Fail(BadRequest("invalidPath", label + ".path must be a string"));
      if (path->get_string().size() > 1024) return Fail(BadRequest("invalidPath", label + ".path is too long"));
      PatchPath parsed;
      parsed.attr = std::string(path->get_string());  // parsed against the target when applied
      operation.path = std::move(parsed);
    }
    if (const auto* value = Member(o, "value")) operation.value = *value;
    if (operation.op != PatchOperation::Op::kRemove && !operation.path && !operation.value.is_object())
      return Fail(BadRequest("invalidValue", label + ".value must be an object when there is no path"));
    if (operation.op != PatchOperation::Op::kRemove && Member(o, "value") == nullptr)
      return Fail(BadRequest("invalidValue", label + ".value is required"));
    if (operation.op == PatchOperation::Op::kRemove && !operation.path)
      return Fail(BadRequest("noTarget", label + ": remove needs a path"));
    out.push_back(std::move(operation));
  }
  return out;
}

Outcome<void> ApplyPatch(json::object& resource, const std::vector<PatchOperation>& ops, const PatchTarget& target) {
  Applier applier{resource, target};
  const auto one = [&](const std::string& path_text, const json::value& value,
                       PatchOperation::Op op) -> Outcome<void> {
    auto path = ParsePatchPath(path_text, &target);
    if (!path) return Fail(path.error());
    if (applier.ReadOnly(*path)) return Fail(BadRequest("mutability", path->attr + " is read-only"));
    if (op == PatchOperation::Op::kRemove) return applier.Remove(*path, value);
    return applier.Set(*path, value, op);
  };
  for (const auto& op : ops) {
    if (op.path) {
      if (auto st = one(op.path->attr, op.value, op.op); !st) return st;
      continue;
    }
    // No path: each member of the value is an attribute (or an extension's object, or,
    // leniently, a path).
    for (const auto& [key, value] : op.value.get_object()) {
      if (IEquals(key, "schemas")) continue;
      bool extension = false;
      for (auto ext : target.extensions)
        if (IEquals(key, ext)) extension = true;
      if (extension && value.is_object()) {
        for (const auto& [k, v] : value.get_object())
          if (auto st = one(std::string(key) + ":" + std::string(k), v, op.op); !st) return st;
        continue;
      }
      if (applier.ReadOnly(PatchPath{{}, std::string(key), std::nullopt, {}})) {
        // Providers echo id/meta in a no-path replace: unchanged read-only values are fine.
        continue;
      }
      if (auto st = one(std::string(key), value, op.op); !st) return st;
    }
  }
  return {};
}

}  // namespace roster::dialects::scim

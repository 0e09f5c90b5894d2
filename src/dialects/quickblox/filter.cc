#include "dialects/quickblox/filter.h"

#include <charconv>
#include <optional>

#include "core/rules.h"
#include "dialects/quickblox/mapping.h"

namespace roster::dialects::quickblox {
namespace json = boost::json;

namespace {

// kDigits: a string of digits that compares as the number it writes (facebook_id);
// a value with other characters compares as text.
enum class Kind { kNumber, kDate, kString, kCaseless, kDigits };

struct FieldInfo {
  std::string_view name;
  Kind kind;
};

constexpr FieldInfo kFields[] = {
    {"id", Kind::kNumber},         {"external_user_id", Kind::kNumber}, {"blob_id", Kind::kNumber},
    {"created_at", Kind::kDate},   {"updated_at", Kind::kDate},         {"last_request_at", Kind::kDate},
    {"login", Kind::kCaseless},    {"email", Kind::kCaseless},          {"full_name", Kind::kString},
    {"phone", Kind::kString},      {"website", Kind::kString},          {"facebook_id", Kind::kDigits},
};

constexpr std::string_view kOps[] = {"eq", "ne", "gt", "lt", "ge", "le", "in", "between"};
constexpr std::string_view kTypes[] = {"number", "string", "date"};

const FieldInfo* FindField(std::string_view name) {
  for (const auto& f : kFields)
    if (f.name == name) return &f;
  return nullptr;
}

template <class List>
bool OneOf(const List& list, std::string_view word) {
  for (const auto& item : list)
    if (item == word) return true;
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Splits off the next space-separated word of `s` (leading spaces skipped).
std::string_view Word(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  const auto space = s.find(' ');
  std::string_view word = s.substr(0, space);
  s = space == std::string_view::npos ? std::string_view() : s.substr(space + 1);
  return word;
}

// Does `s` start a filter: "<type> <field> <op> "?
bool StartsFilter(std::string_view s) {
  if (s.empty() || s.front() == ' ') return false;
  const std::string_view type = Word(s);
  const std::string_view field = Word(s);
  std::string_view rest = s;
  const std::string_view op = Word(rest);
  return OneOf(kTypes, type) && FindField(field) != nullptr && OneOf(kOps, op) && s.size() > op.size();
}

std::optional<std::int64_t> ParseInt(std::string_view s) {
  std::int64_t v = 0;
  if (s.empty()) return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// Milliseconds since the epoch of "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS[.fff][Z]" (a space
// may replace the T, " UTC" the Z), or Unix seconds.
std::optional<std::int64_t> ParseTime(std::string_view s) {
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos) {
    auto seconds = ParseInt(s);
    if (!seconds || *seconds > 100'000'000'000) return std::nullopt;
    return *seconds * 1000;
  }
  if (s.ends_with(" UTC")) s.remove_suffix(4);
  return query::ParseDateTime(s);
}

// A decimal number's digits, left-padded to a fixed width so text order is numeric
// order; any other text as it is.
std::string Digits(std::string_view s) {
  if (s.empty() || s.size() > 40 || s.find_first_not_of("0123456789") != std::string_view::npos) return std::string(s);
  while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
  return std::string(40 - s.size(), '0') + std::string(s);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

core::Status CheckValue(Kind kind, const std::string& value, std::string_view text) {
  if (kind == Kind::kNumber && !ParseInt(value))
    return core::InvalidArgument("filter", "filter value must be a number: " + std::string(text));
  if (kind == Kind::kDate && !ParseTime(value))
    return core::InvalidArgument("filter", "filter value must be a date (YYYY-MM-DDTHH:MM:SSZ): " + std::string(text));
  return {};
}

core::Result<Filter> ParseOne(std::string_view text) {
  const auto invalid = [&](const std::string& why) {
    return core::InvalidArgument("filter", "invalid filter '" + std::string(text) + "': " + why);
  };
  std::string_view rest = text;
  const std::string_view type = Word(rest);
  const std::string_view field = Word(rest);
  const std::string_view op = Word(rest);
  if (!OneOf(kTypes, type)) return invalid("type must be number, string or date");
  const FieldInfo* info = FindField(field);
  if (info == nullptr) return invalid("unknown field");
  if (!OneOf(kOps, op)) return invalid("operator must be one of eq ne gt lt ge le in between");
  Filter f{std::string(field), std::string(op), {}};
  if (op == "in" || op == "between") {
    std::size_t start = 0;
    while (start <= rest.size()) {
      std::size_t end = rest.find(',', start);
      if (end == std::string_view::npos) end = rest.size();
      const std::string_view item = Trim(rest.substr(start, end - start));
      if (!item.empty()) f.values.emplace_back(item);
      start = end + 1;
    }
    if (f.values.empty()) return invalid("a value is required");
    if (op == "between" && f.values.size() != 2) return invalid("between takes two values: a,b");
  } else {
    const std::string_view value = Trim(rest);
    if (value.empty()) return invalid("a value is required");
    f.values.emplace_back(value);
  }
  for (const auto& v : f.values)
    if (auto st = CheckValue(info->kind, v, text); !st) return std::unexpected(st.error());
  return f;
}

// Compares a wire value with filter text of the field's kind: <0, 0, >0.
std::optional<int> Compare(Kind kind, const json::value& value, const std::string& text) {
  switch (kind) {
    case Kind::kNumber: {
      std::int64_t have = 0;
      if (value.is_int64()) have = value.get_int64();
      else if (value.is_uint64()) have = static_cast<std::int64_t>(value.get_uint64());
      else return std::nullopt;
      const auto want = ParseInt(text);
      if (!want) return std::nullopt;
      return have < *want ? -1 : have > *want ? 1 : 0;
    }
    case Kind::kDate: {
      if (!value.is_string()) return std::nullopt;
      const auto have = ParseTime(value.get_string());
      const auto want = ParseTime(text);
      if (!have || !want) return std::nullopt;
      return *have < *want ? -1 : *have > *want ? 1 : 0;
    }
    case Kind::kString:
    case Kind::kCaseless:
    case Kind::kDigits: {
      if (!value.is_string()) return std::nullopt;
      const auto normal = [kind](std::string_view v) {
        return kind == Kind::kCaseless ? Lower(v) : kind == Kind::kDigits ? Digits(v) : std::string(v);
      };
      const std::string have = normal(value.get_string());
      const std::string want = normal(text);
      const int c = have.compare(want);
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
  }
  return std::nullopt;
}

// Orders two wire values of one field; null sorts first.
int CompareValues(Kind kind, const json::value* a, const json::value* b) {
  const bool a_null = a == nullptr || a->is_null();
  const bool b_null = b == nullptr || b->is_null();
  if (a_null || b_null) return a_null == b_null ? 0 : a_null ? -1 : 1;
  if (kind == Kind::kNumber) {
    const auto as = [](const json::value* v) {
      return v->is_int64() ? v->get_int64() : v->is_uint64() ? static_cast<std::int64_t>(v->get_uint64()) : 0;
    };
    return as(a) < as(b) ? -1 : as(a) > as(b) ? 1 : 0;
  }
  if (!a->is_string() || !b->is_string()) return 0;
  // Dates are written in one fixed format, so they sort as text.
  const auto normal = [kind](std::string_view v) {
    return kind == Kind::kCaseless ? Lower(v) : kind == Kind::kDigits ? Digits(v) : std::string(v);
  };
  const std::string x = normal(a->get_string());
  const std::string y = normal(b->get_string());
  const int c = x.compare(y);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

}  // namespace

core::Result<std::vector<Filter>> ParseFilters(std::string_view text) {
  std::vector<Filter> filters;
  text = Trim(text);
  if (text.empty()) return filters;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && !(text[i] == ',' && StartsFilter(text.substr(i + 1)))) continue;
    auto f = ParseOne(Trim(text.substr(start, i - start)));
    if (!f) return std::unexpected(f.error());
    filters.push_back(std::move(*f));
    start = i + 1;
  }
  return filters;
}

core::Result<std::vector<Filter>> ParseFilterParam(const json::value& param) {
  std::vector<Filter> all;
  auto add = [&](const json::value& v) -> core::Status {
    if (!v.is_string()) return core::InvalidArgument("filter", "filter must be a string '<type> <field> <op> <value>'");
    auto parsed = ParseFilters(v.get_string());
    if (!parsed) return std::unexpected(parsed.error());
    for (auto& f : *parsed) all.push_back(std::move(f));
    return {};
  };
  if (param.is_array()) {
    for (const auto& v : param.get_array())
      if (auto st = add(v); !st) return std::unexpected(st.error());
  } else if (auto st = add(param); !st) {
    return std::unexpected(st.error());
  }
  return all;
}

core::Result<Order> ParseOrder(std::string_view text) {
  Order order;
  std::string_view rest = Trim(text);
  if (rest.empty()) return order;
  std::vector<std::string_view> words;
  while (!rest.empty()) {
    words.push_back(Word(rest));
    rest = Trim(rest);
  }
  const auto invalid = core::InvalidArgument("order", "order must be '<asc|desc> <type> <field>'");
  if (words.size() != 2 && words.size() != 3) return invalid;
  if (words[0] != "asc" && words[0] != "desc") return invalid;
  if (words.size() == 3 && !OneOf(kTypes, words[1])) return invalid;
  if (FindField(words.back()) == nullptr) return invalid;
  order.descending = words[0] == "desc";
  order.field = std::string(words.back());
  return order;
}

namespace {

query::Literal LiteralOf(Kind kind, const std::string& text) {
  if (kind == Kind::kNumber) return query::Number(static_cast<double>(ParseInt(text).value_or(0)));
  if (kind == Kind::kDate) return query::String(core::FormatTimestamp(ParseTime(text).value_or(0), true));
  if (kind == Kind::kDigits) return query::String(Digits(text));
  return query::String(text);
}

query::Node One(const FieldInfo& field, query::Op op, const std::string& text) {
  query::Literal literal = LiteralOf(field.kind, text);
  const std::string name(field.name);
  if (name == "email")
    return query::ValuePath(query::Path("emails"),
                            query::And({query::Compare(query::Path("primary"), query::Op::kEq, query::Bool(true)),
                                        query::Compare(query::Path("value"), op, std::move(literal))}));
  if (name == "id") return query::Compare(query::Path("number"), op, std::move(literal));
  query::Node wire = query::Compare(query::AttrPath{std::string(kQuickBloxSchema), {name}}, op, literal);
  // A user without a login has a username all the same: the wire login decides, the
  // username equality only lets the engine use the blind index.
  if (name == "login" && op == query::Op::kEq)
    return query::And({query::Compare(query::Path("userName"), op, std::move(literal)), std::move(wire)});
  return wire;
}

query::Op OpOf(std::string_view op) {
  if (op == "ne") return query::Op::kNe;
  if (op == "gt") return query::Op::kGt;
  if (op == "lt") return query::Op::kLt;
  if (op == "ge") return query::Op::kGe;
  if (op == "le") return query::Op::kLe;
  return query::Op::kEq;
}

}  // namespace

query::Node ToQuery(const std::vector<Filter>& filters) {
  std::vector<query::Node> all;
  for (const Filter& f : filters) {
    const FieldInfo& field = *FindField(f.field);
    if (f.op == "in") {
      std::vector<query::Node> any;
      for (const auto& v : f.values) any.push_back(One(field, query::Op::kEq, v));
      all.push_back(query::Or(std::move(any)));
    } else if (f.op == "between") {
      all.push_back(query::And(
          {One(field, query::Op::kGe, f.values[0]), One(field, query::Op::kLe, f.values[1])}));
    } else {
      all.push_back(One(field, OpOf(f.op), f.values.front()));
    }
  }
  return query::And(std::move(all));
}

std::optional<query::Values> Attribute(const core::User& user, const query::AttrPath& path) {
  if (path.schema != kQuickBloxSchema) return std::nullopt;
  const std::string& name = path.names.front();
  query::Values out;
  if (name == "tags") {
    for (auto& tag : Tags(user)) out.push_back(query::Text(std::move(tag), true));
    return out;
  }
  if (name == "search_name") {
    if (auto full = FullName(user); !full.empty()) out.push_back(query::Text(std::move(full)));
    return out;
  }
  const FieldInfo* field = FindField(name);
  if (field == nullptr) return out;
  const json::object wire = ToWire(user);
  const json::value* v = wire.if_contains(name);
  if (v == nullptr || v->is_null()) return out;
  switch (field->kind) {
    case Kind::kNumber:
      if (v->is_int64()) out.push_back(query::Numeric(static_cast<double>(v->get_int64())));
      else if (v->is_uint64()) out.push_back(query::Numeric(static_cast<double>(v->get_uint64())));
      break;
    case Kind::kDate:
      if (v->is_string())
        if (auto ms = ParseTime(v->get_string())) out.push_back(query::DateTime(*ms));
      break;
    case Kind::kString:
    case Kind::kCaseless:
      if (v->is_string()) out.push_back(query::Text(std::string(v->get_string()), field->kind == Kind::kString));
      break;
    case Kind::kDigits:
      if (v->is_string()) out.push_back(query::Text(Digits(v->get_string()), true));
      break;
  }
  return out;
}

bool Matches(const json::object& user, const Filter& filter) {
  const FieldInfo* info = FindField(filter.field);
  const auto* value = user.if_contains(filter.field);
  if (info == nullptr || value == nullptr || value->is_null()) return false;
  auto cmp = [&](const std::string& text) { return Compare(info->kind, *value, text); };
  const std::string& first = filter.values.front();
  if (filter.op == "in") {
    for (const auto& v : filter.values)
      if (cmp(v) == 0) return true;
    return false;
  }
  if (filter.op == "between") {
    const auto low = cmp(filter.values[0]);
    const auto high = cmp(filter.values[1]);
    return low && high && *low >= 0 && *high <= 0;
  }
  const auto c = cmp(first);
  if (!c) return false;
  if (filter.op == "eq") return *c == 0;
  if (filter.op == "ne") return *c != 0;
  if (filter.op == "gt") return *c > 0;
  if (filter.op == "lt") return *c < 0;
  if (filter.op == "ge") return *c >= 0;
  if (filter.op == "le") return *c <= 0;
  return false;
}

bool MatchesAll(const json::object& user, const std::vector<Filter>& filters) {
  for (const auto& f : filters)
    if (!Matches(user, f)) return false;
  return true;
}

bool Before(const json::object& a, const json::object& b, const Order& order) {
  const FieldInfo* info = FindField(order.field);
  if (info != nullptr && order.field != "id") {
    int c = CompareValues(info->kind, a.if_contains(order.field), b.if_contains(order.field));
    if (order.descending) c = -c;
    if (c != 0) return c < 0;
  }
  int c = CompareValues(Kind::kNumber, a.if_contains("id"), b.if_contains("id"));
  if (order.field == "id" && order.descending) c = -c;
  return c < 0;
}

}  // namespace roster::dialects::quickblox

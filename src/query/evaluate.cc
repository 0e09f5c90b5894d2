#include "query/evaluate.h"

#include "core/rules.h"

namespace roster::query {
namespace {

using Resolver = std::function<Values(const AttrPath&)>;

void AddText(Values& out, const std::string& text, bool case_exact = false) {
  if (!text.empty()) out.push_back(Text(text, case_exact));
}
void AddMember(Value& complex, std::string name, const std::string& text) {
  if (!text.empty()) complex.members.push_back({std::move(name), Text(text)});
}
Value Complex() {
  Value v;
  v.type = Value::Type::kComplex;
  return v;
}

Value ContactValue(const core::Contact& c) {
  Value v = Complex();
  AddMember(v, "value", c.value);
  AddMember(v, "type", c.type);
  v.members.push_back({"primary", Boolean(c.primary)});
  return v;
}

Value AddressValue(const core::Address& a) {
  Value v = Complex();
  AddMember(v, "type", a.type);
  std::string street = a.street_address;
  if (!a.street_address2.empty()) street += (street.empty() ? "" : "\n") + a.street_address2;
  AddMember(v, "streetaddress", street);
  AddMember(v, "locality", a.locality);
  AddMember(v, "region", a.region);
  AddMember(v, "postalcode", a.postal_code);
  AddMember(v, "country", a.country);
  return v;
}

// The values of a canonical top-level attribute.
Values Canonical(const core::User& u, const std::string& name) {
  const core::Profile& p = u.profile;
  Values out;
  if (name == "id") AddText(out, u.id, true);
  else if (name == "externalid") AddText(out, u.external_id, true);
  else if (name == "username") AddText(out, u.username);
  else if (name == "displayname") AddText(out, p.display_name);
  else if (name == "nickname") AddText(out, p.nick_name);
  else if (name == "title") AddText(out, p.title);
  else if (name == "usertype") AddText(out, p.user_type);
  else if (name == "locale") AddText(out, p.locale);
  else if (name == "timezone") AddText(out, p.timezone);
  else if (name == "preferredlanguage") AddText(out, p.preferred_language);
  else if (name == "profileurl") AddText(out, p.profile_url);
  else if (name == "active") out.push_back(Boolean(u.active));
  else if (name == "number") out.push_back(Numeric(static_cast<double>(u.number)));
  else if (name == "name") {
    Value v = Complex();
    AddMember(v, "givenname", p.name.given_name);
    AddMember(v, "familyname", p.name.family_name);
    AddMember(v, "middlename", p.name.middle_name);
    AddMember(v, "formatted", p.name.formatted);
    AddMember(v, "honorificprefix", p.name.honorific_prefix);
    AddMember(v, "honorificsuffix", p.name.honorific_suffix);
    if (!v.members.empty()) out.push_back(std::move(v));
  } else if (name == "emails") {
    for (const auto& c : p.emails) out.push_back(ContactValue(c));
  } else if (name == "phonenumbers") {
    for (const auto& c : p.phone_numbers) out.push_back(ContactValue(c));
  } else if (name == "addresses") {
    for (const auto& a : p.addresses) out.push_back(AddressValue(a));
  } else if (name == "meta") {
    Value v = Complex();
    v.members.push_back({"created", DateTime(u.created_at_ms)});
    v.members.push_back({"lastmodified", DateTime(u.updated_at_ms)});
    v.members.push_back({"resourcetype", Text("User")});
    out.push_back(std::move(v));
  }
  return out;
}

// The values of an enterprise extension attribute (lower-cased name).
Values Enterprise(const core::User& u, const std::string& name) {
  const core::Enterprise& e = u.profile.enterprise;
  Values out;
  if (name == "employeenumber") AddText(out, e.employee_number);
  else if (name == "costcenter") AddText(out, e.cost_center);
  else if (name == "organization") AddText(out, e.organization);
  else if (name == "division") AddText(out, e.division);
  else if (name == "department") AddText(out, e.department);
  else if (name == "manager" && !e.manager_id.empty()) {
    Value v = Complex();
    v.members.push_back({"value", Text(e.manager_id, true)});
    out.push_back(std::move(v));
  }
  return out;
}

const Value* FindMember(const Value& complex, std::string_view name) {
  for (const auto& m : complex.members)
    if (m.name == name) return &m.value;
  return nullptr;
}

// A complex value compared directly stands for its `value` sub-attribute.
const Value* Scalar(const Value& v) { return v.type == Value::Type::kComplex ? FindMember(v, "value") : &v; }

bool Ordered(Op op, int c) {
  switch (op) {
    case Op::kEq: return c == 0;
    case Op::kNe: return c != 0;
    case Op::kGt: return c > 0;
    case Op::kGe: return c >= 0;
    case Op::kLt: return c < 0;
    case Op::kLe: return c <= 0;
    default: return false;
  }
}

template <class T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : b < a ? 1 : 0;
}

bool CompareOne(const Value& v, Op op, const Literal& lit) {
  switch (v.type) {
    case Value::Type::kString: {
      if (lit.kind != Literal::Kind::kString) return false;
      const std::string a = v.case_exact ? v.text : Fold(v.text);
      const std::string& b = v.case_exact ? lit.text : lit.folded;
      switch (op) {
        case Op::kCo: return a.find(b) != std::string::npos;
        case Op::kSw: return a.starts_with(b);
        case Op::kEw: return a.ends_with(b);
        default: return Ordered(op, a.compare(b) < 0 ? -1 : a.compare(b) > 0 ? 1 : 0);
      }
    }
    case Value::Type::kBool:
      if (lit.kind != Literal::Kind::kBool) return false;
      if (op == Op::kEq) return v.boolean == lit.boolean;
      if (op == Op::kNe) return v.boolean != lit.boolean;
      return false;
    case Value::Type::kNumber:
      if (lit.kind != Literal::Kind::kNumber) return false;
      return Ordered(op, Cmp(v.number, lit.number));
    case Value::Type::kDateTime: {
      if (lit.kind != Literal::Kind::kString) return false;
      const auto when = ParseDateTime(lit.text);
      if (!when) return false;
      return Ordered(op, Cmp(static_cast<std::int64_t>(v.number), *when));
    }
    case Value::Type::kComplex:
      return false;
  }
  return false;
}

bool Eval(const Node& node, const Resolver& resolve) {
  switch (node.kind) {
    case Node::Kind::kAnd:
      for (const Node& child : node.children)
        if (!Eval(child, resolve)) return false;
      return true;
    case Node::Kind::kOr:
      for (const Node& child : node.children)
        if (Eval(child, resolve)) return true;
      return false;
    case Node::Kind::kNot:
      return !Eval(node.children.front(), resolve);
    case Node::Kind::kPresent: {
      for (const Value& v : resolve(node.path))
        if (Scalar(v) != nullptr || v.type == Value::Type::kComplex) return true;
      return false;
    }
    case Node::Kind::kCompare: {
      const Values values = resolve(node.path);
      bool present = false;
      for (const Value& v : values) {
        const Value* s = Scalar(v);
        if (s == nullptr) continue;
        present = true;
        if (node.value.kind != Literal::Kind::kNull && CompareOne(*s, node.op, node.value)) return true;
      }
      if (node.value.kind == Literal::Kind::kNull) {
        if (node.op == Op::kEq) return !present;
        if (node.op == Op::kNe) return present;
      }
      return false;
    }
    case Node::Kind::kValuePath: {
      AttrPath whole{node.path.schema, {node.path.names.front()}};
      for (const Value& element : resolve(whole)) {
        const Resolver inner = [&](const AttrPath& sub) -> Values {
          if (element.type != Value::Type::kComplex)
            return sub.names.front() == "value" ? Values{element} : Values{};
          const Value* m = FindMember(element, sub.names.front());
          return m ? Values{*m} : Values{};
        };
        if (Eval(node.children.front(), inner)) return true;
      }
      return false;
    }
  }
  return false;
}

std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

Value Text(std::string text, bool case_exact) {
  Value v;
  v.type = Value::Type::kString;
  v.text = std::move(text);
  v.case_exact = case_exact;
  return v;
}
Value Boolean(bool value) {
  Value v;
  v.type = Value::Type::kBool;
  v.boolean = value;
  return v;
}
Value Numeric(double value) {
  Value v;
  v.type = Value::Type::kNumber;
  v.number = value;
  return v;
}
Value DateTime(std::int64_t ms) {
  Value v;
  v.type = Value::Type::kDateTime;
  v.number = static_cast<double>(ms);
  return v;
}

Values Resolve(const core::User& user, const AttrPath& path, const Extension& extension) {
  if (extension) {
    if (auto values = extension(user, path)) return std::move(*values);
  }
  if (path.names.empty()) return {};
  Values top;
  if (path.schema == kEnterpriseUserSchema) top = Enterprise(user, path.names.front());
  else if (path.schema.empty()) top = Canonical(user, path.names.front());
  else return {};
  if (path.names.size() == 1) return top;
  Values out;
  for (const Value& v : top) {
    if (v.type != Value::Type::kComplex) continue;
    if (const Value* m = FindMember(v, path.names[1])) out.push_back(*m);
  }
  return out;
}

bool MatchesResolved(const Node& filter, const std::function<Values(const AttrPath&)>& resolve) {
  return Eval(filter, resolve);
}

bool Matches(const Node& filter, const core::User& user, const Extension& extension) {
  return Eval(filter, [&](const AttrPath& path) { return Resolve(user, path, extension); });
}

std::optional<std::int64_t> ParseDateTime(std::string_view s) {
  auto number = [&](std::size_t at, std::size_t length) -> std::optional<int> {
    if (s.size() < at + length) return std::nullopt;
    int v = 0;
    for (std::size_t i = at; i < at + length; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const auto y = number(0, 4), mo = number(5, 2), d = number(8, 2);
  if (!y || !mo || !d || s[4] != '-' || s[7] != '-' || *mo < 1 || *mo > 12 || *d < 1 || *d > 31) return std::nullopt;
  std::int64_t ms = DaysFromCivil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d)) * 86'400'000;
  if (s.size() == 10) return ms;
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
  const auto h = number(11, 2), mi = number(14, 2), se = number(17, 2);
  if (!h || !mi || !se || s[13] != ':' || s[16] != ':' || *h > 23 || *mi > 59 || *se > 60) return std::nullopt;
  ms += (*h * 3600LL + *mi * 60LL + *se) * 1000;
  std::string_view rest = s.substr(19);
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    int digits = 0, fraction = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (digits < 3) fraction = fraction * 10 + (rest.front() - '0'), ++digits;
      else if (digits == 3) ++digits;  // further digits are read and dropped
      rest.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
    for (int i = std::min(digits, 3); i < 3; ++i) fraction *= 10;
    ms += fraction;
  }
  if (rest.empty() || rest == "Z" || rest == "z") return ms;
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    const auto oh = number(s.size() - 5, 2), om = number(s.size() - 2, 2);
    if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
    const std::int64_t offset = (*oh * 60LL + *om) * 60'000;
    return rest[0] == '+' ? ms - offset : ms + offset;
  }
  return std::nullopt;
}

}  // namespace roster::query

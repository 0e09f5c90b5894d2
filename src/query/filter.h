// The filter tree every list path compiles its wire filter into: attribute comparisons
// (eq ne co sw ew gt ge lt le), presence (pr), and/or/not, and value paths
// (`emails[type eq "work"]`: a sub-filter on the elements of a multi-valued attribute).
// Attribute paths are canonical (SCIM 2.0 names, see evaluate.h). Pure values, no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace roster::query {

enum class Op { kEq, kNe, kCo, kSw, kEw, kGt, kGe, kLt, kLe };
std::string_view OpName(Op op);

// A JSON literal: string, number, true/false or null.
struct Literal {
  enum class Kind { kNull, kBool, kNumber, kString };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string text;    // kString: the decoded string
  std::string folded;  // kString: text case-folded once (see Fold), for caseExact=false attributes
};
Literal Null();
Literal Bool(bool value);
Literal Number(double value);
Literal String(std::string text);

// [schema ":"] attribute ["." subAttribute]. Names are ASCII lower-cased (SCIM names are
// case-insensitive); `schema` is the lower-cased URN, empty for the core User schema.
struct AttrPath {
  std::string schema;
  std::vector<std::string> names;  // one or two
  bool operator==(const AttrPath&) const = default;
};
// "name.givenName" -> {"", {"name", "givenname"}}; `schema` as given (lower-cased).
AttrPath Path(std::string_view dotted, std::string_view schema = {});
std::string ToString(const AttrPath& path);

struct Node {
  enum class Kind { kCompare, kPresent, kAnd, kOr, kNot, kValuePath };
  Kind kind = Kind::kCompare;
  AttrPath path;               // kCompare, kPresent, kValuePath
  Op op = Op::kEq;             // kCompare
  Literal value;               // kCompare
  std::vector<Node> children;  // kAnd/kOr: two or more; kNot: one; kValuePath: the sub-filter
};

Node Compare(AttrPath path, Op op, Literal value);
Node Present(AttrPath path);
Node And(std::vector<Node> children);  // one child: that child
Node Or(std::vector<Node> children);   // one child: that child
Node Not(Node child);
Node ValuePath(AttrPath path, Node filter);

// The case-insensitive form of a string (caseExact=false): Unicode NFKC case fold, as
// usernames compare (core::FoldUsername); ASCII lower-casing where that rule refuses the
// text (over 256 characters, control characters).
std::string Fold(std::string_view text);

// A readable rendering of the tree (SCIM syntax), for tests and messages.
std::string ToString(const Node& node);

}  // namespace roster::query

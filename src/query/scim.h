// The SCIM 2.0 filter parser (RFC 7644 section 3.4.2.2), in full:
//
//   FILTER    := or
//   or        := and ("or" and)*                      -- precedence: not > and > or
//   and       := unary ("and" unary)*
//   unary     := "not" "(" FILTER ")" | "(" FILTER ")" | valuePath | attrExp
//   valuePath := attrPath "[" valFilter "]"           -- valFilter: FILTER over sub-attributes
//   attrExp   := attrPath "pr" | attrPath compareOp compValue
//   compareOp := eq | ne | co | sw | ew | gt | lt | ge | le
//   compValue := false | null | true | number | string   (JSON literals)
//   attrPath  := [URI ":"] ATTRNAME ["." subAttr]      -- ATTRNAME: ALPHA *(ALPHA DIGIT - _)
//
// Operators, keywords, literal names and attribute names are case-insensitive. A URN
// prefix naming the core User schema (urn:ietf:params:scim:schemas:core:2.0:User) is
// dropped; another URN is kept in AttrPath::schema. Value paths do not nest, and the
// attributes inside one are sub-attributes (one name each). co/sw/ew need a string;
// gt/ge/lt/le refuse true/false/null (RFC 7644: no ordering on booleans).
// Errors: kInvalidArgument, field "filter", saying what and where ("unknown operator
// 'eqq' at position 9"); positions are byte offsets from 0. Limits bound the work.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/error.h"
#include "query/filter.h"

namespace roster::query {

inline constexpr std::string_view kCoreUserSchema = "urn:ietf:params:scim:schemas:core:2.0:user";

struct ParseLimits {
  std::size_t max_length = 4096;  // bytes
  std::size_t max_depth = 16;     // parentheses, not and value paths nested
  std::size_t max_terms = 64;     // comparisons and presence tests
};

core::Result<Node> ParseScimFilter(std::string_view text, const ParseLimits& limits = {});

}  // namespace roster::query

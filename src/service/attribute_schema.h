// The environment's declared attributes (core/schema.h), kept as records of kind
// kAttributeKind (sealed JSON bodies). The service reads the schema on every user write
// to derive the claims of unique attributes; a dialect that declares attributes writes
// the bodies in the layout AttributeFromRecord reads.
#pragma once

#include "core/error.h"
#include "core/schema.h"
#include "service/record_service.h"

namespace roster::service {

// Historical name: PingOne was the first API to declare attributes.
inline constexpr const char* kAttributeKind = "pingone.attribute";
inline constexpr std::size_t kMaxAttributes = 500;

// Body members: name, displayName, description, type, enabled, required, unique,
// multiValued, enumeratedValues [{value, description, archived}], regexValidation
// {pattern, requirements, valuesPatternShouldMatch, valuesPatternShouldNotMatch}.
core::AttributeDefinition AttributeFromRecord(const Record& record);

core::Result<core::AttributeSchema> LoadAttributeSchema(RecordService& records, const std::string& environment_id);

}  // namespace roster::service

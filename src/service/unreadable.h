// A stored row that cannot be opened or read (a damaged ciphertext, a document no
// reader of this binary accepts) never fails a page or a lookup that returns many:
// it is skipped, counted (roster_unreadable_rows_total{kind}) and logged by kind and
// id, never a value. Fetching that one row by id still fails.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace roster::service {

// Where the skip lines go (the composition root sets it once, before serving).
void SetUnreadableRowLog(std::function<void(const std::string&)> log);
void SkipUnreadableRow(std::string_view kind, const std::string& id, const core::Error& error);
// How many rows of `kind` ("user", "record") were skipped since start.
std::uint64_t UnreadableRows(std::string_view kind);

}  // namespace roster::service

// The audit trail's operator surface (service/audit.h): `roster audit verify` and
// `roster audit export`, and the admin-only route GET /admin/v1/audit serving the same
// export over HTTP (docs/security.md, "Audit trail").
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "http/router.h"
#include "service/audit.h"
#include "service/directory_service.h"

namespace roster::cli {

struct AuditCommandOptions {
  std::string env;  // verify: empty = every environment
  std::string since, until, subject;
};

// Milliseconds since the epoch from RFC 3339 UTC ("2026-11-30T20:00:00Z", date only
// "2026-11-30") or a plain integer of milliseconds; nullopt when neither.
std::optional<std::int64_t> ParseAuditTime(const std::string& text);

// `roster audit verify`: prints one line (or JSON object) per environment; returns 1
// when any chain is broken, naming its first bad record.
int AuditVerify(service::DirectoryService& directory, service::AuditLog& audit, const AuditCommandOptions& o,
                bool as_json);
// `roster audit export`: JSON Lines on stdout; the export itself is recorded.
int AuditExport(service::DirectoryService& directory, service::AuditLog& audit, const AuditCommandOptions& o);

// GET /admin/v1/audit?env=NAME[&since=T][&until=T][&subject=ID]: JSON Lines, for an
// admin API key (X-Api-Key: <secret> or Authorization: Bearer <secret>) of that
// environment; the export is recorded with the key as principal.
void MountAuditRoute(http::Router& router, service::DirectoryService& directory, service::AuditLog& audit);

}  // namespace roster::cli

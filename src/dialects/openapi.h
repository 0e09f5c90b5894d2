// Every API describes its own wire in an OpenAPI 3.1 document, src/dialects/<api>/openapi.json,
// compiled into its library (roster_embed_text in the top-level CMakeLists.txt) and served
// by its own Mount at GET /openapi/<api>.json, with no authentication. Adding an API adds
// its document: tests/integration/openapi_test.cc checks that every route the router
// serves for an API is in its document and every documented operation is served.
#pragma once

#include <string>
#include <string_view>

#include "http/router.h"

namespace roster::dialects {

// The path an API's document is served at.
inline std::string OpenApiPath(std::string_view api) { return "/openapi/" + std::string(api) + ".json"; }

// Adds GET /openapi/<api>.json answering `document` (application/json; no caller check:
// the document describes the wire, it holds nothing of a directory).
inline void MountOpenApi(http::Router& router, std::string_view api, std::string_view document) {
  router.Add("GET", OpenApiPath(api), http::Exec::kInline,
             [document](const http::Request&, const http::PathParams&) {
               return http::Response::Json(200, std::string(document));
             });
}

}  // namespace roster::dialects

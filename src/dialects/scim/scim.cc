// The SCIM 2.0 dialect: routes and the token commands. See docs/dialects/scim.md.
#include "dialects/scim/scim.h"

#include <memory>

#include "dialects/openapi.h"
#include "dialects/scim/common.h"
#include "dialects/scim/resources.h"

namespace roster::dialects::scim {
namespace json = boost::json;

// This API's OpenAPI document (openapi.json, embedded at build time).
extern const std::string_view kOpenApiDocument;

namespace {

struct State {
  Services s;
  Config config;
};

using Operation = std::function<Result(const Context&, const http::Request&, const http::PathParams&)>;

// Authenticates, runs the operation and renders its reply or error.
http::Handler Route(std::shared_ptr<State> state, Operation op) {
  return [state, op](const http::Request& req, const http::PathParams& params) -> http::Response {
    auto ctx = Authenticate(state->s, state->config, req);
    if (!ctx) return Render(ctx.error());
    auto reply = op(*ctx, req, params);
    if (!reply) return Render(reply.error());
    return Render(*reply);
  };
}

std::string Param(const http::PathParams& params, std::string_view name) { return std::string(params.Get(name)); }

Result ListUsers(const Context& ctx, const http::Request& req) {
  auto query = ParseQuery(req.query);
  if (!query) return Fail(query.error());
  auto search = SearchFromQuery(*query);
  if (!search) return Fail(search.error());
  return SearchUsers(ctx, *search);
}

Outcome<Projection> ProjectionOf(const http::Request& req) {
  auto query = ParseQuery(req.query);
  if (!query) return Fail(query.error());
  std::string attributes, excluded;
  for (const auto& [k, v] : *query) {
    if (IEquals(k, "attributes")) attributes = v;
    if (IEquals(k, "excludedAttributes")) excluded = v;
  }
  return ParseProjection(attributes, excluded);
}

}  // namespace

void Mount(http::Router& router, const Services& services, const Config& config) {
  auto state = std::make_shared<State>(State{services, config});
  router.SetErrorRenderer(std::string(kPrefix), TransportError);
  const std::string p(kPrefix);
  using http::Exec;

  router.Add("GET", p + "/ServiceProviderConfig", Exec::kInline,
             Route(state, [](const Context& ctx, const http::Request&, const http::PathParams&) {
               return ServiceProviderConfig(ctx);
             }));
  router.Add("GET", p + "/ResourceTypes", Exec::kInline,
             Route(state, [](const Context& ctx, const http::Request&, const http::PathParams&) {
               return ResourceTypes(ctx);
             }));
  router.Add("GET", p + "/ResourceTypes/{name}", Exec::kInline,
             Route(state, [](const Context& ctx, const http::Request&, const http::PathParams& params) {
               return ResourceTypes(ctx, Param(params, "name"));
             }));
  router.Add("GET", p + "/Schemas", Exec::kInline,
             Route(state, [](const Context& ctx, const http::Request&, const http::PathParams&) {
               return Schemas(ctx);
             }));
  router.Add("GET", p + "/Schemas/{id}", Exec::kInline,
             Route(state, [](const Context& ctx, const http::Request&, const http::PathParams& params) {
               return Schemas(ctx, Param(params, "id"));
             }));

  // Users. Reads run inline; writes (durable, and perhaps a password hash) on workers.
  router.Add("GET", p + "/Users", Exec::kInline,
             Route(state, [](const Context& ctx, const http::Request& req, const http::PathParams&) {
               return ListUsers(ctx, req);
             }));
  router.Add("POST", p + "/Users/.search", Exec::kInline,
             Route(state, [](const Context& ctx, const http::Request& req, const http::PathParams&) -> Result {
               auto body = ParseBody(req);
               if (!body) return Fail(body.error());
               auto search = SearchFromBody(*body);
               if (!search) return Fail(search.error());
               auto reply = SearchUsers(ctx, *search);
               return reply;
             }));
  router.Add("POST", p + "/Users", Exec::kWorker,
             Route(state, [](const Context& ctx, const http::Request& req, const http::PathParams&) -> Result {
               auto body = ParseBody(req);
               if (!body) return Fail(body.error());
               return CreateUser(ctx, *body);
             }));
  router.Add("GET", p + "/Users/{id}", Exec::kInline,
             Route(state, [](const Context& ctx, const http::Request& req, const http::PathParams& params) -> Result {
               auto projection = ProjectionOf(req);
               if (!projection) return Fail(projection.error());
               return GetUser(ctx, Param(params, "id"), *projection);
             }));
  router.Add("PUT", p + "/Users/{id}", Exec::kWorker,
             Route(state, [](const Context& ctx, const http::Request& req, const http::PathParams& params) -> Result {
               auto precondition = PreconditionOf(req);
               if (!precondition) return Fail(precondition.error());
               auto body = ParseBody(req);
               if (!body) return Fail(body.error());
               return ReplaceUser(ctx, Param(params, "id"), *body, *precondition);
             }));
  router.Add("PATCH", p + "/Users/{id}", Exec::kWorker,
             Route(state, [](const Context& ctx, const http::Request& req, const http::PathParams& params) -> Result {
               auto precondition = PreconditionOf(req);
               if (!precondition) return Fail(precondition.error());
               auto body = ParseBody(req);
               if (!body) return Fail(body.error());
               return PatchUser(ctx, Param(params, "id"), *body, *precondition);
             }));
  router.Add("DELETE", p + "/Users/{id}", Exec::kWorker,
             Route(state, [](const Context& ctx, const http::Request& req, const http::PathParams& params) -> Result {
               auto precondition = PreconditionOf(req);
               if (!precondition) return Fail(precondition.error());
               return DeleteUser(ctx, Param(params, "id"), *precondition);
             }));

  // Groups. Every route may read a group's members (users opened one by one), so all
  // run on workers, reads included.
  router.Add("GET", p + "/Groups", Exec::kWorker,
             Route(state, [](const Context& ctx, const http::Request& req, const http::PathParams&) -> Result {
               auto query = ParseQuery(req.query);
               if (!query) return Fail(query.error());
               auto search = SearchFromQuery(*query);
               if (!search) return Fail(search.error());
               return SearchGroups(ctx, *search);
             }));
  router.Add("POST", p + "/Groups/.search", Exec::kWorker,
             Route(state, [](const Context& ctx, const http::Request& req, const http::PathParams&) -> Result {
               auto body = ParseBody(req);
               if (!body) return Fail(body.error());
               auto search = SearchFromBody(*body);
               if (!search) return Fail(search.error());
               return SearchGroups(ctx, *search);
             }));
  router.Add("POST", p + "/Groups", Exec::kWorker,
             Route(state, [](const Context& ctx, const http::Request& req, const http::PathParams&) -> Result {
               auto body = ParseBody(req);
               if (!body) return Fail(body.error());
               return CreateGroup(ctx, *body);
             }));
  router.Add("GET", p + "/Groups/{id}", Exec::kWorker,
             Route(state, [](const Context& ctx, const http::Request& req, const http::PathParams& params) -> Result {
               auto projection = ProjectionOf(req);
               if (!projection) return Fail(projection.error());
               return GetGroup(ctx, Param(params, "id"), *projection);
             }));
  router.Add("PUT", p + "/Groups/{id}", Exec::kWorker,
             Route(state, [](const Context& ctx, const http::Request& req, const http::PathParams& params) -> Result {
               auto precondition = PreconditionOf(req);
               if (!precondition) return Fail(precondition.error());
               auto body = ParseBody(req);
               if (!body) return Fail(body.error());
               return ReplaceGroup(ctx, Param(params, "id"), *body, *precondition);
             }));
  router.Add("PATCH", p + "/Groups/{id}", Exec::kWorker,
             Route(state, [](const Context& ctx, const http::Request& req, const http::PathParams& params) -> Result {
               auto precondition = PreconditionOf(req);
               if (!precondition) return Fail(precondition.error());
               auto body = ParseBody(req);
               if (!body) return Fail(body.error());
               return PatchGroup(ctx, Param(params, "id"), *body, *precondition);
             }));
  router.Add("DELETE", p + "/Groups/{id}", Exec::kWorker,
             Route(state, [](const Context& ctx, const http::Request& req, const http::PathParams& params) -> Result {
               auto precondition = PreconditionOf(req);
               if (!precondition) return Fail(precondition.error());
               return DeleteGroup(ctx, Param(params, "id"), *precondition);
             }));

  // Bulk: every operation a durable write, on a worker.
  router.Add("POST", p + "/Bulk", Exec::kWorker,
             Route(state, [](const Context& ctx, const http::Request& req, const http::PathParams&) {
               return Bulk(ctx, req);
             }));
  MountOpenApi(router, "scim", kOpenApiDocument);
}

// ---- tokens -----------------------------------------------------------------------

core::Result<json::object> CreateToken(Services services, const std::string& environment_name,
                                       std::optional<core::Scopes> scopes) {
  service::KeyGrant grant;
  grant.apis = core::kScimApi;
  grant.scopes = scopes;
  grant.kind = core::CredentialKind::kScimToken;
  auto key = services.directory.CreateApiKey(environment_name, service::KeyRole::kApp, "", grant);
  if (!key) return std::unexpected(key.error());
  json::array names;
  for (const auto& n : core::ScopeNames(key->info.scopes)) names.push_back(json::string(n));
  return json::object{{"id", key->info.id},
                      {"environment", environment_name},
                      {"token", key->secret},
                      {"scopes", std::move(names)}};
}

core::Result<json::object> ListTokens(Services services, const std::string& environment_name) {
  auto keys = services.directory.ListApiKeys(environment_name);
  if (!keys) return std::unexpected(keys.error());
  json::array tokens;
  for (const auto& k : *keys) {
    if (k.role != service::KeyRole::kApp || !(k.apis & core::kScimApi)) continue;
    json::array names;
    for (const auto& n : core::ScopeNames(k.scopes)) names.push_back(json::string(n));
    tokens.push_back(json::object{{"id", k.id},
                                  {"createdAt", Timestamp(k.created_at_ms)},
                                  {"revoked", k.revoked},
                                  {"scopes", std::move(names)}});
  }
  return json::object{{"environment", environment_name}, {"tokens", std::move(tokens)}};
}

core::Result<json::object> RevokeToken(Services services, const std::string& environment_name, const std::string& id) {
  auto keys = services.directory.ListApiKeys(environment_name);
  if (!keys) return std::unexpected(keys.error());
  for (const auto& k : *keys) {
    if (k.id != id || k.role != service::KeyRole::kApp || !(k.apis & core::kScimApi)) continue;
    if (auto st = services.directory.RevokeApiKey(id); !st) return std::unexpected(st.error());
    return json::object{{"id", id}, {"environment", environment_name}, {"revoked", true}};
  }
  return core::NotFound("no SCIM token '" + id + "' in environment '" + environment_name + "'");
}

void AddCommands(CLI::App& app, const AddCommand& add) {
  struct Arguments {
    std::string env, id;
    std::vector<std::string> scopes;
  };
  auto args = std::make_shared<Arguments>();
  auto* tokens = CommandGroup(*CommandGroup(app, "scim", "SCIM 2.0 administration"), "token",
                              "Bearer tokens for identity providers");
  auto* create = tokens->add_subcommand("create", "Create a SCIM bearer token for an environment (printed once)");
  create->add_option("--env", args->env, "Environment name")->required();
  create->add_option("--scope", args->scopes,
                     "A scope of the token (repeatable; default: profile:read, profile:write, users:list, "
                     "contact:read, groups:write; see docs/security.md)");
  add(create, [args](const Services& s) -> core::Result<json::object> {
    auto scopes = core::ScopesFromNames(args->scopes);
    if (!scopes) return std::unexpected(scopes.error());
    return CreateToken(s, args->env, *scopes);
  });
  auto* list = tokens->add_subcommand("list", "List an environment's SCIM tokens (never the tokens themselves)");
  list->add_option("--env", args->env, "Environment name")->required();
  add(list, [args](const Services& s) { return ListTokens(s, args->env); });
  auto* revoke = tokens->add_subcommand("revoke", "Revoke a SCIM token; it is refused at once");
  revoke->add_option("--env", args->env, "Environment name")->required();
  revoke->add_option("--id", args->id, "The token's id")->required();
  add(revoke, [args](const Services& s) { return RevokeToken(s, args->env, args->id); });
}

}  // namespace roster::dialects::scim

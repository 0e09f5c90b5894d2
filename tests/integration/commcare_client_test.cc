// What Dimagi's commcare-export does against CommCare HQ, replayed against Roster.
// commcare-export is on PyPI only (it cannot run here), so this replays exactly what its
// client sends and parses, from dimagi/commcare-export:
//   commcare_export/commcare_hq_client.py  CommCareHqClient: api_url
//       f'{url}/a/{project}/api/v{version}' (version '0.5'), get() with
//       requests.auth.HTTPDigestAuth (--auth-mode password, the default) or ApiKeyAuth
//       ('apikey {username}:{apikey}'), its 429 handling (backoff.on_predicate: sleep
//       ceil(Retry-After), then the same request again), and iterate(): follow
//       meta.next, stop on an empty batch or no next;
//   commcare_export/commcare_minilinq.py   SimplePaginator: params {'limit': page_size}
//       first, then parse_qs(urlparse(meta['next']).query);
//   commcare_export/cli.py                 --users (resource 'user'), --locations and
//       --with-organization (resources 'location_type' and 'location');
//   commcare_export/location_info_provider.py  LocationInfoProvider: location types by
//       resource_uri, each location's ancestors by walking `parent` resource URIs;
// and python-requests' HTTPDigestAuth (requests/auth.py: handle_401, build_digest_header)
// with the header handling it relies on (urllib3 joins repeated header lines with ", ",
// requests.utils.parse_dict_header keeps the last value of each parameter).
// Also: HTTP Basic with a web user's password, Digest SHA-256, nonce replay, the
// challenges on 401, every URL version, and one API key across a user's project spaces.
#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "integration/harness.h"

namespace roster::testing {
namespace {

namespace json = boost::json;

std::string Hash(const EVP_MD* md, std::string_view text) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), out, &length, md, nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < length; ++i) {
    hex.push_back(kHex[out[i] >> 4]);
    hex.push_back(kHex[out[i] & 15]);
  }
  return hex;
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned v = 0;
  int bits = 0;
  for (unsigned char c : in) {
    v = (v << 8) | c;
    bits += 8;
    while (bits >= 6) out.push_back(kAlphabet[(v >> (bits -= 6)) & 63]);
  }
  if (bits > 0) out.push_back(kAlphabet[(v << (6 - bits)) & 63]);
  while (out.size() % 4) out.push_back('=');
  return out;
}

// urllib.request.parse_http_list: comma-separated, commas inside quotes kept.
std::vector<std::string> ParseHttpList(std::string_view s) {
  std::vector<std::string> out;
  std::string part;
  bool quoted = false, escape = false;
  for (char c : s) {
    if (escape) {
      part.push_back(c);
      escape = false;
    } else if (quoted && c == '\\') {
      escape = true;
      part.push_back(c);
    } else if (c == '"') {
      quoted = !quoted;
      part.push_back(c);
    } else if (c == ',' && !quoted) {
      out.push_back(part);
      part.clear();
    } else {
      part.push_back(c);
    }
  }
  if (!part.empty()) out.push_back(part);
  for (auto& p : out) {
    while (!p.empty() && p.front() == ' ') p.erase(0, 1);
    while (!p.empty() && p.back() == ' ') p.pop_back();
  }
  return out;
}

// requests.utils.parse_dict_header: later values win.
std::map<std::string, std::string> ParseDictHeader(std::string_view s) {
  std::map<std::string, std::string> out;
  for (const auto& item : ParseHttpList(s)) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      out[item] = "";
      continue;
    }
    std::string value = item.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    out[item.substr(0, eq)] = value;
  }
  return out;
}

// Every WWW-Authenticate line joined as urllib3's HTTPHeaderDict.get does.
std::string JoinedChallenges(const HttpResponse& r) {
  std::string joined;
  for (const auto& [name, value] : r.headers)
    if (name == "www-authenticate") joined += (joined.empty() ? "" : ", ") + value;
  return joined;
}

// requests.auth.HTTPDigestAuth, as commcare-export uses it (one per client).
class DigestAuth {
 public:
  DigestAuth(std::string username, std::string password)
      : username_(std::move(username)), password_(std::move(password)) {}

  bool has_challenge() const { return !chal_.empty(); }

  // handle_401: `s_auth` holds "digest" -> parse the challenge after the first "digest ".
  bool Learn(const HttpResponse& r) {
    std::string s_auth = JoinedChallenges(r);
    std::string lower = s_auth;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto at = lower.find("digest ");
    if (lower.find("digest") == std::string::npos || at == std::string::npos) return false;
    s_auth.erase(at, 7);  // pat.sub("", s_auth, count=1)
    chal_ = ParseDictHeader(s_auth);
    return true;
  }

  // build_digest_header(method, url) with url's path and query.
  std::string Header(const std::string& method, const std::string& path) {
    const std::string realm = chal_["realm"], nonce = chal_["nonce"], qop = chal_["qop"];
    const std::string algorithm = chal_.count("algorithm") ? chal_["algorithm"] : "";
    std::string upper = algorithm.empty() ? "MD5" : algorithm;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const EVP_MD* md = upper == "SHA-256" ? EVP_sha256() : EVP_md5();
    const std::string ha1 = Hash(md, username_ + ":" + realm + ":" + password_);
    const std::string ha2 = Hash(md, method + ":" + path);
    nonce_count_ = nonce == last_nonce_ ? nonce_count_ + 1 : 1;
    last_nonce_ = nonce;
    char nc[9];
    std::snprintf(nc, sizeof nc, "%08x", nonce_count_);
    std::mt19937_64 random{std::random_device{}()};
    const std::string cnonce =
        Hash(EVP_sha1(), std::to_string(nonce_count_) + nonce + std::to_string(random())).substr(0, 16);
    const std::string respdig = Hash(md, ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2);
    std::string base = "username=\"" + username_ + "\", realm=\"" + realm + "\", nonce=\"" + nonce + "\", uri=\"" +
                       path + "\", response=\"" + respdig + "\"";
    if (!algorithm.empty()) base += ", algorithm=\"" + algorithm + "\"";
    if (!qop.empty()) base += ", qop=\"auth\", nc=" + std::string(nc) + ", cnonce=\"" + cnonce + "\"";
    return "Digest " + base;
  }

  std::map<std::string, std::string> chal_;

 private:
  std::string username_, password_;
  std::string last_nonce_;
  unsigned nonce_count_ = 0;
};

// CommCareHqClient: one project, one auth mode, API version 0.5 unless told.
class HqClient {
 public:
  HqClient(const std::string& base_url, std::string project, std::optional<DigestAuth> digest, std::string apikey_header,
           std::string version = "0.5")
      : http_(base_url), project_(std::move(project)), digest_(std::move(digest)),
        apikey_header_(std::move(apikey_header)), version_(std::move(version)) {}

  std::string ApiUrl() const { return "/a/" + project_ + "/api/v" + version_; }

  // session.get(url, params=params, auth=...): requests' auth hooks included.
  HttpResponse Send(const std::string& path) {
    Headers headers;
    if (!digest_) headers.push_back({"Authorization", apikey_header_});
    // HTTPDigestAuth.__call__: once it has a nonce, every request carries a response.
    if (digest_ && digest_->has_challenge()) headers.push_back({"Authorization", digest_->Header("GET", path)});
    HttpResponse r = http_.Send("GET", path, "", headers);
    ++requests;
    // handle_401: at most one retry with the new challenge.
    if (digest_ && r.status == 401 && digest_->Learn(r)) {
      r = http_.Send("GET", path, "", {{"Authorization", digest_->Header("GET", path)}});
      ++requests;
    }
    return r;
  }

  // get(resource, params): 429 -> sleep ceil(Retry-After) and ask again.
  json::object Get(const std::string& resource, const std::vector<std::pair<std::string, std::string>>& params) {
    std::string path = ApiUrl() + "/" + resource + "/";
    std::string query;
    for (const auto& [k, v] : params) query += (query.empty() ? "" : "&") + UrlEncode(k) + "=" + UrlEncode(v);
    if (!query.empty()) path += "?" + query;
    for (;;) {
      HttpResponse r = Send(path);
      if (r.status == 429) {
        const std::string retry_after = r.Header("retry-after");
        EXPECT_FALSE(retry_after.empty()) << "a 429 without Retry-After is raised, not retried, by commcare-export";
        if (retry_after.empty()) return {};
        ++throttled;
        std::this_thread::sleep_for(std::chrono::seconds(static_cast<long>(std::ceil(std::stod(retry_after)))));
        continue;
      }
      EXPECT_EQ(r.status, 200) << path << " " << r.body;
      last_status = r.status;
      return r.Json().is_object() ? r.Json().as_object() : json::object();
    }
  }

  // iterate(resource, SimplePaginator(page_size)): every object, following meta.next.
  std::vector<json::object> Iterate(const std::string& resource, int page_size) {
    std::vector<std::pair<std::string, std::string>> params = {{"limit", std::to_string(page_size)}};
    std::vector<json::object> out;
    std::set<std::string> last_batch_ids;
    for (int guard = 0; guard < 100; ++guard) {
      json::object batch = Get(resource, params);
      if (!batch.contains("meta")) break;
      const json::object meta = batch.at("meta").as_object();
      const json::array objects = batch.at("objects").as_array();
      if (objects.empty()) break;
      for (const auto& o : objects)
        if (!last_batch_ids.count(json::serialize(o.at("id")))) out.push_back(o.as_object());
      if (!meta.contains("next") || meta.at("next").is_null()) break;
      last_batch_ids.clear();
      for (const auto& o : objects) last_batch_ids.insert(json::serialize(o.at("id")));  // ids: text or numbers
      // parse_qs(urlparse(next).query): the next request's params, in order.
      const std::string next(meta.at("next").as_string());
      next_links.push_back(next);
      params.clear();
      const auto q = next.find('?');
      const std::string query = q == std::string::npos ? "" : next.substr(q + 1);
      for (std::size_t i = 0; i < query.size();) {
        std::size_t amp = query.find('&', i);
        if (amp == std::string::npos) amp = query.size();
        const std::string pair = query.substr(i, amp - i);
        const auto eq = pair.find('=');
        params.push_back({pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1)});
        i = amp + 1;
      }
    }
    return out;
  }

  int requests = 0, throttled = 0;
  long last_status = 0;
  std::vector<std::string> next_links;

 private:
  Client http_;
  std::string project_;
  std::optional<DigestAuth> digest_;
  std::string apikey_header_;
  std::string version_;
};

struct WebUser {
  std::string email, key;
};

WebUser MakeWebUser(const TempDir& dir, const std::string& domain, const std::string& email,
                    const std::string& password) {
  const std::string file = dir / ("pw-" + domain + "-" + email);
  std::ofstream(file) << password << "\n";
  auto r = RunRoster({"commcare", "web-user", "create", "--domain", domain, "--email", email, "--password-file", file,
                      "--data-dir", dir.path(), "--json"});
  if (r.exit_code != 0) throw std::runtime_error("web-user create failed: " + r.err);
  auto j = json::parse(r.out).as_object();
  if (!j.contains("passwordSet")) throw std::runtime_error("no password set: " + r.out);
  return {std::string(j.at("username").as_string()), std::string(j.at("apiKey").as_string())};
}

constexpr const char* kPassword = "Export-pass 1";
constexpr int kWorkers = 7;

class CommCareClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ids_.clear();  // a repeated run (--gtest_repeat) starts a new server: only its workers
    dir_ = new TempDir();
    InitDataDir(dir_->path());
    exporter_ = MakeWebUser(*dir_, "export", "exporter@example.org", kPassword);
    // The same person in a second project space (a membership there), and a third
    // project space they do not belong to.
    (void)MakeWebUser(*dir_, "export-two", "exporter@example.org", "another one");
    (void)MakeWebUser(*dir_, "stranger", "someone@example.org", "x-password");
    server_ = new Server(dir_->path());
    Client client(server_->base_url());
    for (int i = 0; i < kWorkers; ++i) {
      auto r = client.Send("POST", "/a/export/api/v0.5/user/",
                           json::serialize(json::object{{"username", "worker" + std::to_string(i)},
                                                        {"password", "pw-123456"}}),
                           {{"Authorization", ApiKeyHeader()}});
      if (r.status != 201) throw std::runtime_error("worker create failed: " + r.body);
      ids_.insert(std::string(r.Json().at("id").as_string()));
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  // ApiKeyAuth.__call__: 'apikey {username}:{apikey}' (lower-case scheme).
  static std::string ApiKeyHeader() { return "apikey " + exporter_.email + ":" + exporter_.key; }
  static std::set<std::string> IdsOf(const std::vector<json::object>& objects) {
    std::set<std::string> out;
    for (const auto& o : objects) out.insert(std::string(o.at("id").as_string()));
    return out;
  }

  static TempDir* dir_;
  static Server* server_;
  static WebUser exporter_;
  static std::set<std::string> ids_;
};

TempDir* CommCareClientTest::dir_;
Server* CommCareClientTest::server_;
WebUser CommCareClientTest::exporter_;
std::set<std::string> CommCareClientTest::ids_;

// `commcare-export --users --auth-mode password` (the default): Digest, pages by meta.next.
TEST_F(CommCareClientTest, DigestModeExportsUsersPagingByMetaNext) {
  HqClient hq(server_->base_url(), "export", DigestAuth(exporter_.email, kPassword), "");
  const auto users = hq.Iterate("user", 3);
  EXPECT_EQ(IdsOf(users), ids_);
  EXPECT_EQ(users.size(), static_cast<std::size_t>(kWorkers));
  ASSERT_EQ(hq.next_links.size(), 2u);  // 3 + 3 + 1
  EXPECT_EQ(hq.next_links[0], "/a/export/api/v0.5/user/?limit=3&offset=3");
  // One challenge (the first request), then every request answers it with nc 2, 3, ...
  EXPECT_EQ(hq.requests, 4);
}

// `--auth-mode apikey`, on each URL version CommCare serves the user list at.
TEST_F(CommCareClientTest, ApiKeyModeExportsUsersOnEveryVersion) {
  for (const std::string version : {"0.5", "0.4"}) {
    HqClient hq(server_->base_url(), "export", std::nullopt, ApiKeyHeader(), version);
    EXPECT_EQ(IdsOf(hq.Iterate("user", 2)), ids_) << version;
    ASSERT_FALSE(hq.next_links.empty());
    EXPECT_EQ(hq.next_links[0], "/a/export/api/v" + version + "/user/?limit=2&offset=2");
  }
  // The 2024 form, /a/{domain}/api/user/v1/: the same handler, meta.next keeps the form.
  Client client(server_->base_url());
  auto r = client.Send("GET", "/a/export/api/user/v1/?limit=5", "", {{"Authorization", ApiKeyHeader()}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = r.Json();
  EXPECT_EQ(body.at("meta").at("next"), json::value("/a/export/api/user/v1/?limit=5&offset=5"));
  EXPECT_EQ(body.at("meta").at("total_count"), json::value(kWorkers));
  for (const char* path : {"/a/export/api/group/v1/", "/a/export/api/web-user/v1/", "/a/export/api/v0.4/group/",
                           "/a/export/api/v0.4/web-user/"}) {
    EXPECT_EQ(client.Send("GET", path, "", {{"Authorization", ApiKeyHeader()}}).status, 200) << path;
  }
  // A version CommCare does not serve is no route.
  EXPECT_EQ(client.Send("GET", "/a/export/api/v0.3/user/", "", {{"Authorization", ApiKeyHeader()}}).status, 404);
}

// The Digest throttle counts guesses, not requests: a client paging with one nonce pays
// one token per nonce, however many pages it reads; wrong responses pay each, and once
// they spent the address's budget a client gets 429 with Retry-After, which
// commcare-export sleeps out and asks again, and the export completes.
TEST_F(CommCareClientTest, TooManyRequestsIsRetriedAfterRetryAfter) {
  TempDir dir;
  InitDataDir(dir.path());
  const auto user = MakeWebUser(dir, "export", "exporter@example.org", kPassword);
  auto args = kFastHashing;
  args.insert(args.end(), {"--throttle-per-address", "60"});  // 60 at once, then 1 a second
  Server server(dir.path(), args);
  {
    Client client(server.base_url());
    auto r = client.Send("POST", "/a/export/api/v0.5/user/",
                         json::serialize(json::object{{"username", "solo"}, {"password", "pw-123456"}}),
                         {{"Authorization", "ApiKey " + user.email + ":" + user.key}});
    ASSERT_EQ(r.status, 201) << r.body;
  }
  // 150 Digest requests (more than the budget of 60) with one nonce: never throttled.
  HqClient paging(server.base_url(), "export", DigestAuth(user.email, kPassword), "");
  for (int i = 0; i < 150; ++i) ASSERT_EQ(paging.Iterate("user", 1).size(), 1u);
  EXPECT_GE(paging.requests, 150);
  EXPECT_EQ(paging.throttled, 0) << "a client reusing its nonce was throttled";
  // Guesses (a wrong password) pay each: the budget is spent, then 429 as CommCare's
  // clients see it.
  Client raw(server.base_url());
  DigestAuth guess(user.email, "not-the-password");
  HttpResponse r;
  int guesses = 0;
  for (; guesses < 200; ++guesses) {
    r = raw.Send("GET", "/a/export/api/v0.5/user/", "",
                 guess.has_challenge() ? Headers{{"Authorization", guess.Header("GET", "/a/export/api/v0.5/user/")}}
                                       : Headers{});
    if (r.status == 401) guess.Learn(r);
    if (r.status == 429) break;
    EXPECT_EQ(r.status, 401) << r.body;
  }
  ASSERT_EQ(r.status, 429) << r.body;
  EXPECT_GE(guesses, 55) << "the budget of 60 ran out early";
  EXPECT_FALSE(r.Header("retry-after").empty());
  EXPECT_TRUE(r.Json().is_object() && r.Json().as_object().contains("error")) << r.body;
  // A new client's first response to its nonce costs a token: 429, waited out, then the
  // export completes.
  HqClient late(server.base_url(), "export", DigestAuth(user.email, kPassword), "");
  ASSERT_EQ(late.Iterate("user", 1).size(), 1u);
  EXPECT_GE(late.throttled, 1);
  EXPECT_EQ(late.last_status, 200);
}

// ---- Digest and Basic details ----

TEST_F(CommCareClientTest, UnauthenticatedRequestsGetDigestAndBasicChallenges) {
  Client client(server_->base_url());
  auto r = client.Send("GET", "/a/export/api/v0.5/user/");
  ASSERT_EQ(r.status, 401) << r.body;
  std::vector<std::string> challenges;
  for (const auto& [name, value] : r.headers)
    if (name == "www-authenticate") challenges.push_back(value);
  ASSERT_EQ(challenges.size(), 3u);
  EXPECT_EQ(challenges[0].rfind("Digest realm=\"DJANGO\", qop=\"auth\", algorithm=SHA-256, nonce=\"", 0), 0u)
      << challenges[0];
  EXPECT_EQ(challenges[1].rfind("Digest realm=\"DJANGO\", qop=\"auth\", algorithm=MD5, nonce=\"", 0), 0u)
      << challenges[1];
  EXPECT_EQ(challenges[2], "Basic realm=\"DJANGO\"");
  EXPECT_TRUE(r.Json().as_object().contains("error")) << r.body;
}

TEST_F(CommCareClientTest, DigestSha256IsAcceptedAndReplaysAreRefused) {
  Client client(server_->base_url());
  const std::string path = "/a/export/api/v0.5/user/?limit=1";
  auto challenge = client.Send("GET", path);
  DigestAuth auth(exporter_.email, kPassword);
  ASSERT_TRUE(auth.Learn(challenge));
  auth.chal_["algorithm"] = "SHA-256";
  const std::string header = auth.Header("GET", path);
  EXPECT_NE(header.find("algorithm=\"SHA-256\""), std::string::npos);
  EXPECT_EQ(client.Send("GET", path, "", {{"Authorization", header}}).status, 200);
  // The same nc again: a replay.
  auto replay = client.Send("GET", path, "", {{"Authorization", header}});
  EXPECT_EQ(replay.status, 401) << replay.body;
  EXPECT_NE(replay.body.find("replay"), std::string::npos) << replay.body;
  // The next nc is fine.
  EXPECT_EQ(client.Send("GET", path, "", {{"Authorization", auth.Header("GET", path)}}).status, 200);
  // A response for another uri, a wrong password, a forged nonce: 401.
  EXPECT_EQ(client.Send("GET", path + "0", "", {{"Authorization", auth.Header("GET", path)}}).status, 401);
  DigestAuth wrong(exporter_.email, "not the password");
  wrong.Learn(challenge);
  EXPECT_EQ(client.Send("GET", path, "", {{"Authorization", wrong.Header("GET", path)}}).status, 401);
  DigestAuth forged(exporter_.email, kPassword);
  forged.Learn(challenge);
  forged.chal_["nonce"] = "99999999999999.00000000000000000000000000000000.00000000000000000000000000000000";
  EXPECT_EQ(client.Send("GET", path, "", {{"Authorization", forged.Header("GET", path)}}).status, 401);
  // A nonce of another project space's challenge does not work here.
  DigestAuth elsewhere(exporter_.email, kPassword);
  ASSERT_TRUE(elsewhere.Learn(client.Send("GET", "/a/export-two/api/v0.5/user/")));
  EXPECT_EQ(client.Send("GET", path, "", {{"Authorization", elsewhere.Header("GET", path)}}).status, 401);
  // Malformed Digest credentials are 401 with CommCare's {"error"} body.
  auto malformed = client.Send("GET", path, "", {{"Authorization", "Digest username=\"x"}});
  EXPECT_EQ(malformed.status, 401);
  EXPECT_TRUE(malformed.Json().as_object().contains("error")) << malformed.body;
}

TEST_F(CommCareClientTest, BasicAcceptsTheWebUsersPasswordOrKey) {
  Client client(server_->base_url());
  const auto basic = [](const std::string& pair) { return Headers{{"Authorization", "Basic " + Base64(pair)}}; };
  EXPECT_EQ(client.Send("GET", "/a/export/api/v0.5/user/", "", basic(exporter_.email + ":" + kPassword)).status, 200);
  EXPECT_EQ(client.Send("GET", "/a/export/api/v0.5/user/", "", basic(exporter_.email + ":" + exporter_.key)).status,
            200);
  auto wrong = client.Send("GET", "/a/export/api/v0.5/user/", "", basic(exporter_.email + ":wrong password"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_FALSE(wrong.Header("www-authenticate").empty());
  EXPECT_EQ(client.Send("GET", "/a/export/api/v0.5/user/", "", basic("nobody@example.org:" + std::string(kPassword)))
                .status,
            401);
  // The password of one project space's membership is that membership's.
  EXPECT_EQ(client.Send("GET", "/a/export-two/api/v0.5/user/", "", basic(exporter_.email + ":another one")).status,
            200);
  EXPECT_EQ(client.Send("GET", "/a/export-two/api/v0.5/user/", "", basic(exporter_.email + ":" + kPassword)).status,
            401);
}

// One API key in every project space its user belongs to; 403 elsewhere.
TEST_F(CommCareClientTest, ApiKeyWorksAcrossTheUsersProjectSpaces) {
  Client client(server_->base_url());
  const Headers key{{"Authorization", ApiKeyHeader()}};
  EXPECT_EQ(client.Send("GET", "/a/export-two/api/v0.5/user/", "", key).status, 200);
  auto stranger = client.Send("GET", "/a/stranger/api/v0.5/user/", "", key);
  EXPECT_EQ(stranger.status, 403) << stranger.body;
  EXPECT_EQ(stranger.Json().at("error"), json::value("You do not have access to project space 'stranger'."));
  EXPECT_EQ(client.Send("GET", "/a/nowhere/api/v0.5/user/", "", key).status, 403);
}

// bulk-user (docs/api/bulk-user.rst): q searches, fields picks, unknown fields are 400.
TEST_F(CommCareClientTest, BulkUserSearchesAndPicksFields) {
  Client client(server_->base_url());
  const Headers key{{"Authorization", ApiKeyHeader()}};
  auto all = client.Send("GET", "/a/export/api/bulk-user/v1/", "", key);
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.Json().at("meta").at("total_count"), json::value(kWorkers));
  const json::object first = all.Json().at("objects").at(0).as_object();
  EXPECT_EQ(first.size(), 7u);
  EXPECT_EQ(first.at("resource_uri"), json::value(""));
  auto one = client.Send("GET", "/a/export/api/v0.5/bulk-user/?q=WORKER3", "", key);
  ASSERT_EQ(one.status, 200) << one.body;
  auto objects = one.Json().at("objects").as_array();
  ASSERT_EQ(objects.size(), 1u) << one.body;
  EXPECT_EQ(objects[0].at("username"), json::value("worker3@export.commcarehq.org"));
  auto picked = client.Send("GET", "/a/export/api/bulk-user/v1/?fields=username&fields=first_name&limit=2", "", key);
  ASSERT_EQ(picked.status, 200) << picked.body;
  auto picked_objects = picked.Json().at("objects").as_array();
  ASSERT_EQ(picked_objects.size(), 2u);
  EXPECT_EQ(picked_objects[0].as_object().size(), 2u);
  EXPECT_TRUE(picked_objects[0].as_object().contains("username"));
  EXPECT_EQ(picked.Json().at("meta").at("next"),
            json::value("/a/export/api/bulk-user/v1/?fields=username&fields=first_name&limit=2&offset=2"));
  auto bad = client.Send("GET", "/a/export/api/bulk-user/v1/?fields=password", "", key);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Json(), json::parse(R"({"error":"password is not a valid field"})"));
  EXPECT_EQ(client.Send("GET", "/a/export/api/bulk-user/v1/?limit=x", "", key).status, 400);
  EXPECT_EQ(client.Send("GET", "/a/export/api/bulk-user/v1/").status, 401);
}

// Outside a project space: who the key is, and where its user belongs.
TEST_F(CommCareClientTest, IdentityAndUserDomainsNameTheKeysUser) {
  Client client(server_->base_url());
  const Headers key{{"Authorization", ApiKeyHeader()}};
  for (const char* path : {"/api/v0.5/identity/", "/api/identity/v1/"}) {
    auto r = client.Send("GET", path, "", key);
    ASSERT_EQ(r.status, 200) << path << " " << r.body;
    auto body = r.Json();
    EXPECT_EQ(body.at("username"), json::value(exporter_.email));
    EXPECT_EQ(body.at("email"), json::value(exporter_.email));
    EXPECT_EQ(body.at("id").as_string().size(), 32u);
  }
  for (const char* path : {"/api/v0.5/user_domains/", "/api/user_domains/v1/"}) {
    auto r = client.Send("GET", path, "", key);
    ASSERT_EQ(r.status, 200) << path << " " << r.body;
    auto body = r.Json();
    // CommCare's DoesNothingPaginator: meta holds total_count only.
    EXPECT_EQ(body.at("meta"), json::parse(R"({"total_count":2})"));
    std::set<std::string> names;
    for (const auto& o : body.at("objects").as_array()) {
      names.insert(std::string(o.at("domain_name").as_string()));
      EXPECT_EQ(o.at("project_name"), o.at("domain_name"));
    }
    EXPECT_EQ(names, (std::set<std::string>{"export", "export-two"}));  // not "stranger"
  }
  auto anonymous = client.Send("GET", "/api/identity/v1/");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_TRUE(anonymous.Json().as_object().contains("error")) << anonymous.body;
  auto domains = client.Send("GET", "/api/user_domains/v1/", "", {{"Authorization", "ApiKey x@example.org:nope"}});
  EXPECT_EQ(domains.status, 401);
  EXPECT_EQ(domains.body, "Username or API Key is incorrect, expired or deactivated");
  EXPECT_EQ(domains.Header("content-type").rfind("text/plain", 0), 0u);
}

TEST_F(CommCareClientTest, SetPasswordCommandChangesWhatBasicAndDigestAccept) {
  const std::string file = *dir_ / "new-password";
  std::ofstream(file) << "Changed pass 2\n";
  auto r = RunRoster({"commcare", "web-user", "set-password", "--domain", "export-two", "--email",
                      "EXPORTER@example.org", "--password-file", file, "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out).at("username"), json::value("exporter@example.org"));
  Client client(server_->base_url());
  EXPECT_EQ(client.Send("GET", "/a/export-two/api/v0.5/user/", "",
                        {{"Authorization", "Basic " + Base64("exporter@example.org:Changed pass 2")}})
                .status,
            200);
  HqClient hq(server_->base_url(), "export-two", DigestAuth("exporter@example.org", "Changed pass 2"), "");
  EXPECT_TRUE(hq.Iterate("user", 10).empty());
  EXPECT_EQ(hq.last_status, 200);
  // An empty password file and an unknown web user are refused, exit 1.
  std::ofstream(*dir_ / "empty") << "\n";
  EXPECT_NE(RunRoster({"commcare", "web-user", "set-password", "--domain", "export", "--email", "exporter@example.org",
                       "--password-file", *dir_ / "empty", "--data-dir", dir_->path()})
                .exit_code,
            0);
  EXPECT_NE(RunRoster({"commcare", "web-user", "set-password", "--domain", "export", "--email", "nobody@example.org",
                       "--password-file", file, "--data-dir", dir_->path()})
                .exit_code,
            0);
  // Nothing of the password is stored in plaintext.
  const std::string dump = DumpStore(dir_->path());
  EXPECT_EQ(dump.find("Changed pass 2"), std::string::npos);
  EXPECT_EQ(dump.find(kPassword), std::string::npos);
}

// ---- mobile workers with their own password ----

// A mobile worker signs in with its password over Basic or Digest, as on CommCare HQ;
// then CommCare's require_api_permission('access_api') refuses it (the mobile-worker
// role grants no API access): 403 in its own project space, 403 naming the project
// space in another. LoginAuthentication's identity and user_domains answer it.
TEST_F(CommCareClientTest, MobileWorkersSignInWithTheirPasswordAndAreRefusedTheApi) {
  Client client(server_->base_url());
  const std::string worker = "worker0@export.commcarehq.org";
  const std::string path = "/a/export/api/v0.5/user/";
  const auto basic = [](const std::string& pair) { return Headers{{"Authorization", "Basic " + Base64(pair)}}; };
  const auto expect_error = [](const HttpResponse& r, long status, const std::string& message) {
    EXPECT_EQ(r.status, status) << r.body;
    ASSERT_TRUE(r.Json().is_object()) << r.body;
    EXPECT_EQ(r.Json().at("error"), json::value(message)) << r.body;
  };
  const std::string no_api = "Mobile workers do not have API access: their role does not grant 'access_api'.";
  // Basic.
  expect_error(client.Send("GET", path, "", basic(worker + ":pw-123456")), 403, no_api);
  expect_error(client.Send("GET", "/a/export/api/user/v1/", "", basic("WORKER0@export.commcarehq.org:pw-123456")),
               403, no_api);
  auto wrong = client.Send("GET", path, "", basic(worker + ":not-my-password"));
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  EXPECT_FALSE(wrong.Header("www-authenticate").empty());
  EXPECT_EQ(client.Send("GET", path, "", basic("ghost@export.commcarehq.org:pw-123456")).status, 401);
  EXPECT_EQ(client.Send("GET", path, "", basic("worker0@nowhere.commcarehq.org:pw-123456")).status, 401);
  // In another project space: signed in, but not a member there.
  expect_error(client.Send("GET", "/a/export-two/api/v0.5/user/", "", basic(worker + ":pw-123456")), 403,
               "You do not have access to project space 'export-two'.");
  // A worker of that other project space is one there, and a stranger here.
  auto two = client.Send("POST", "/a/export-two/api/v0.5/user/",
                         json::serialize(json::object{{"username", "bob"}, {"password", "bob-pass-1"}}),
                         {{"Authorization", ApiKeyHeader()}});
  ASSERT_EQ(two.status, 201) << two.body;
  expect_error(client.Send("GET", path, "", basic("bob@export-two.commcarehq.org:bob-pass-1")), 403,
               "You do not have access to project space 'export'.");
  expect_error(client.Send("GET", "/a/export-two/api/v0.5/user/", "", basic("bob@export-two.commcarehq.org:bob-pass-1")),
               403, no_api);
  // Digest (commcare-export's --auth-mode password): MD5 and SHA-256.
  for (const char* algorithm : {"MD5", "SHA-256"}) {
    DigestAuth digest(worker, "pw-123456");
    ASSERT_TRUE(digest.Learn(client.Send("GET", path)));
    digest.chal_["algorithm"] = algorithm;
    expect_error(client.Send("GET", path, "", {{"Authorization", digest.Header("GET", path)}}), 403, no_api);
    expect_error(client.Send("GET", path, "", {{"Authorization", digest.Header("GET", path)}}), 403, no_api);
  }
  DigestAuth wrong_digest(worker, "not-my-password");
  ASSERT_TRUE(wrong_digest.Learn(client.Send("GET", path)));
  auto refused = client.Send("GET", path, "", {{"Authorization", wrong_digest.Header("GET", path)}});
  EXPECT_EQ(refused.status, 401) << refused.body;
  DigestAuth bob("bob@export-two.commcarehq.org", "bob-pass-1");
  ASSERT_TRUE(bob.Learn(client.Send("GET", path)));
  expect_error(client.Send("GET", path, "", {{"Authorization", bob.Header("GET", path)}}), 403,
               "You do not have access to project space 'export'.");
  // identity and user_domains (Basic: no project space to issue a nonce for).
  auto identity = client.Send("GET", "/api/identity/v1/", "", basic(worker + ":pw-123456"));
  ASSERT_EQ(identity.status, 200) << identity.body;
  auto who = identity.Json();
  EXPECT_EQ(who.at("username"), json::value(worker));
  EXPECT_TRUE(ids_.count(std::string(who.at("id").as_string()))) << identity.body;
  EXPECT_EQ(client.Send("GET", "/api/identity/v1/", "", basic(worker + ":wrong")).status, 401);
  auto domains = client.Send("GET", "/api/v0.5/user_domains/", "", basic(worker + ":pw-123456"));
  ASSERT_EQ(domains.status, 200) << domains.body;
  EXPECT_EQ(domains.Json(),
            json::parse(R"({"meta":{"total_count":1},"objects":[{"domain_name":"export","project_name":"export"}]})"));
}

// The worker's Digest secret follows its password: set by the API's create and PUT, and
// stale (refused) once the password changes where none is written, until a Basic sign-in.
TEST_F(CommCareClientTest, MobileWorkerDigestFollowsItsPassword) {
  Client client(server_->base_url());
  const Headers key{{"Authorization", ApiKeyHeader()}};
  auto created = client.Send("POST", "/a/export/api/v0.5/user/",
                             json::serialize(json::object{{"username", "carol"}, {"password", "carol-pass-1"}}), key);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id(created.Json().at("id").as_string());
  const std::string path = "/a/export/api/v0.5/group/";
  const auto digest_status = [&](const std::string& password) {
    DigestAuth digest("carol@export.commcarehq.org", password);
    EXPECT_TRUE(digest.Learn(client.Send("GET", path)));
    return client.Send("GET", path, "", {{"Authorization", digest.Header("GET", path)}}).status;
  };
  EXPECT_EQ(digest_status("carol-pass-1"), 403);
  // A web user whose key may set workers' passwords (password:set; the default scopes lack it).
  auto setter = RunRoster({"commcare", "web-user", "create", "--domain", "export", "--email", "setter@example.org",
                           "--scope", "profile:read", "--scope", "profile:write", "--scope", "users:list",
                           "--scope", "password:set", "--data-dir", dir_->path(), "--json"});
  ASSERT_EQ(setter.exit_code, 0) << setter.err;
  const auto setter_key = json::parse(setter.out).at("apiKey");
  ASSERT_EQ(client.Send("PUT", "/a/export/api/v0.5/user/" + id + "/",
                        json::serialize(json::object{{"password", "carol-pass-2"}}),
                        {{"Authorization", "ApiKey setter@example.org:" + std::string(setter_key.as_string())}})
                .status,
            200);
  EXPECT_EQ(digest_status("carol-pass-1"), 401);
  EXPECT_EQ(digest_status("carol-pass-2"), 403);
  // Deactivated: refused whatever the password.
  ASSERT_EQ(client.Send("POST", "/a/export/api/v0.5/user/" + id + "/deactivate/", "", key).status, 202);
  EXPECT_EQ(digest_status("carol-pass-2"), 401);
  EXPECT_EQ(client.Send("GET", path, "", {{"Authorization", "Basic " + Base64("carol@export.commcarehq.org:carol-pass-2")}})
                .status,
            401);
  // Nothing of the passwords is stored in plaintext.
  const std::string dump = DumpStore(dir_->path());
  EXPECT_EQ(dump.find("carol-pass"), std::string::npos);
}

// Wrong passwords lock the worker's username out from that address, as a sign-in does:
// 429 with Retry-After, the right password included, until the window ends.
TEST(CommCareWorkerLockoutTest, WrongPasswordsLockTheWorkerOut) {
  TempDir dir;
  InitDataDir(dir.path());
  const auto admin = MakeWebUser(dir, "lock", "admin@example.org", kPassword);
  Server server(dir.path());
  Client client(server.base_url());
  auto r = client.Send("POST", "/a/lock/api/v0.5/user/",
                       json::serialize(json::object{{"username", "dave"}, {"password", "dave-pass-1"}}),
                       {{"Authorization", "ApiKey " + admin.email + ":" + admin.key}});
  ASSERT_EQ(r.status, 201) << r.body;
  const auto basic = [](const std::string& pair) { return Headers{{"Authorization", "Basic " + Base64(pair)}}; };
  const std::string path = "/a/lock/api/v0.5/user/";
  EXPECT_EQ(client.Send("GET", path, "", basic("dave@lock.commcarehq.org:dave-pass-1")).status, 403);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(client.Send("GET", path, "", basic("dave@lock.commcarehq.org:guess" + std::to_string(i))).status, 401);
  auto locked = client.Send("GET", path, "", basic("dave@lock.commcarehq.org:dave-pass-1"));
  EXPECT_EQ(locked.status, 429) << locked.body;
  EXPECT_FALSE(locked.Header("retry-after").empty());
  EXPECT_TRUE(locked.Json().as_object().contains("error")) << locked.body;
  DigestAuth digest("dave@lock.commcarehq.org", "dave-pass-1");
  ASSERT_TRUE(digest.Learn(client.Send("GET", path)));
  EXPECT_EQ(client.Send("GET", path, "", {{"Authorization", digest.Header("GET", path)}}).status, 429);
  // The web user of the same project space is not locked out.
  EXPECT_EQ(client.Send("GET", path, "", basic(admin.email + ":" + kPassword)).status, 200);
}

// ---- format=xml ----

// Tastypie's XML as the JSON value it was rendered from: tastypie's from_etree, with
// <response> read as an object and an untyped empty element as "" (python3's stdlib).
json::value XmlAsJson(const TempDir& dir, const std::string& xml) {
  const std::string file = dir / "answer.xml";
  std::ofstream(file) << xml;
  const std::string script = dir / "from_etree.py";
  std::ofstream(script) << R"(import json, sys, xml.etree.ElementTree as ET
def value(e, top=False):
    t = e.get('type')
    if top or e.tag == 'object' or t == 'hash':
        return {c.tag: value(c) for c in e}
    if e.tag == 'objects' or t == 'list':
        return [value(c) for c in e]
    if t == 'integer': return int(e.text)
    if t == 'float': return float(e.text)
    if t == 'boolean': return e.text == 'True'
    if t == 'null': return None
    return e.text or ''
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == 'response', root.tag
print(json.dumps(value(root, True)))
)";
  std::string out;
  if (Shell("python3 " + script + " " + file, &out) != 0) return json::value("unparsable: " + out);
  return json::parse(out);
}

// Every resource answers Tastypie's XML for ?format=xml (or an Accept header preferring
// it), the same value as its JSON; errors too. Other formats stay 400.
TEST_F(CommCareClientTest, FormatXmlAnswersTastypiesXmlOfTheSameValue) {
  Client client(server_->base_url());
  const Headers key{{"Authorization", ApiKeyHeader()}};
  const std::string worker = *ids_.begin();
  for (const std::string& path : std::vector<std::string>{
           "/a/export/api/v0.5/user/?limit=3", "/a/export/api/user/v1/" + worker + "/", "/a/export/api/v0.4/group/",
        "/a/export/api/v0.5/web-user/", "/a/export/api/bulk-user/v1/?limit=2", "/a/export/api/v0.5/location_type/",
        "/a/export/api/location/v2/", "/api/identity/v1/", "/api/user_domains/v1/",
        "/a/export/api/v0.5/user/ffffffffffffffffffffffffffffffff/", "/a/export/api/v0.5/user/?limit=x"}) {
    SCOPED_TRACE(path);
    auto as_json = client.Send("GET", path, "", key);
    const std::string sep = path.find('?') == std::string::npos ? "?" : "&";
    auto as_xml = client.Send("GET", path + sep + "format=xml", "", key);
    EXPECT_EQ(as_xml.status, as_json.status) << as_xml.body;
    EXPECT_EQ(as_xml.Header("content-type"), "application/xml; charset=utf-8");
    EXPECT_EQ(as_xml.body.rfind("<?xml version='1.0' encoding='utf-8'?>\n<response>", 0), 0u) << as_xml.body;
    json::value expected = as_json.Json();
    // meta.next/previous name the request's own parameters, format included.
    if (expected.is_object() && expected.as_object().contains("meta"))
      for (const char* link : {"next", "previous"})
        if (auto* v = expected.at("meta").as_object().if_contains(link); v && v->is_string())
          *v = json::value(std::string(v->as_string()).insert(std::string(v->as_string()).find('?') + 1, "format=xml&"));
    EXPECT_EQ(XmlAsJson(*dir_, as_xml.body), expected) << as_xml.body;
  }
  // The Accept header asks the same; JSON stays the default.
  auto accepted = client.Send("GET", "/a/export/api/v0.5/user/?limit=1", "",
                              {{"Authorization", ApiKeyHeader()}, {"Accept", "application/xml"}});
  EXPECT_EQ(accepted.status, 200);
  EXPECT_EQ(accepted.Header("content-type"), "application/xml; charset=utf-8");
  auto plain = client.Send("GET", "/a/export/api/v0.5/user/?limit=1", "",
                           {{"Authorization", ApiKeyHeader()}, {"Accept", "*/*"}});
  EXPECT_EQ(plain.Header("content-type").rfind("application/json", 0), 0u);
  // The list shape, as tastypie writes it.
  auto list = client.Send("GET", "/a/export/api/v0.5/user/?limit=1&format=xml", "", key);
  EXPECT_NE(list.body.find("<limit type=\"integer\">1</limit>"), std::string::npos) << list.body;
  EXPECT_NE(list.body.find("<objects type=\"list\"><object type=\"hash\">"), std::string::npos) << list.body;
  // Credentials errors too.
  auto anonymous = client.Send("GET", "/a/export/api/v0.5/user/?format=xml");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(XmlAsJson(*dir_, anonymous.body).at("error").is_string(), true) << anonymous.body;
  // Other formats: 400.
  auto yaml = client.Send("GET", "/a/export/api/v0.5/user/?format=yaml", "", key);
  EXPECT_EQ(yaml.status, 400) << yaml.body;
  EXPECT_NE(yaml.body.find("format must be json or xml"), std::string::npos) << yaml.body;
}

// ---- require_account_confirmation (mobile-worker.rst, two-stage provisioning) ----

// The link of the confirmation page in a message, as a path on this server.
std::string ConfirmLinkIn(const std::string& message) {
  std::smatch m;
  static const std::regex re("https://id\\.example\\.test(/pages/confirm\\?env=[0-9a-f-]+&token=[0-9a-f]{64})");
  return std::regex_search(message, m, re) ? m[1].str() : std::string();
}

// A worker created with require_account_confirmation has no password and is inactive
// until it follows the mailed link and chooses its password; then it is active and signs
// in with it. The link works once; a confirmed account is not confirmed again.
TEST(CommCareConfirmationTest, UnconfirmedWorkersConfirmByChoosingTheirPassword) {
  TempDir dir, mail_dir;
  InitDataDir(dir.path());
  const auto admin = MakeWebUser(dir, "conf", "admin@example.org", kPassword);
  SmtpSink sink(mail_dir.path());
  auto args = kFastHashing;
  args.insert(args.end(), {"--smtp-url", sink.url(), "--smtp-from", "roster@example.test", "--public-url",
                           "https://id.example.test"});
  Server server(dir.path(), args);
  Client client(server.base_url());
  const Headers key{{"Authorization", "ApiKey " + admin.email + ":" + admin.key}};
  const std::string users = "/a/conf/api/user/v1/";
  const auto post = [&](const json::object& body) { return client.Send("POST", users, json::serialize(body), key); };
  const auto error_of = [](const HttpResponse& r) { return std::string(r.Json().at("error").as_string()); };
  // The rules of the request.
  auto with_password = post({{"username", "erin"}, {"email", "erin@example.org"}, {"password", "pw-123456"},
                             {"require_account_confirmation", true}});
  EXPECT_EQ(with_password.status, 400) << with_password.body;
  EXPECT_NE(error_of(with_password).find("'password' must be omitted"), std::string::npos);
  auto without_email = post({{"username", "erin"}, {"require_account_confirmation", true}});
  EXPECT_EQ(without_email.status, 400) << without_email.body;
  EXPECT_NE(error_of(without_email).find("'email' is required"), std::string::npos);
  auto not_bool = post({{"username", "erin"}, {"email", "erin@example.org"}, {"require_account_confirmation", "yes"}});
  EXPECT_EQ(not_bool.status, 400) << not_bool.body;
  EXPECT_EQ(error_of(not_bool), "require_account_confirmation must be a boolean");
  EXPECT_EQ(error_of(post({{"username", "erin"}})), "Password or connect username required");
  // The docs' "Sample Input - Unconfirmed User": no password, an email, the two flags.
  auto created = post({{"username", "erin"}, {"first_name", "Erin"}, {"email", "Erin@Example.org"},
                       {"require_account_confirmation", true}, {"send_confirmation_email_now", true}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id(created.Json().at("id").as_string());
  EXPECT_EQ(created.Json().at("is_active"), json::value(false));
  EXPECT_EQ(created.body.find("require_account_confirmation"), std::string::npos) << "write-only";
  const std::string basic_header = "Basic " + Base64("erin@conf.commcarehq.org:Chosen-pass-1");
  EXPECT_EQ(client.Send("GET", users, "", {{"Authorization", basic_header}}).status, 401);
  // The mail, its link, the page and the password chosen there.
  auto mail = sink.WaitForMessagesTo("erin@example.org", 1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail.front().find("Confirm your account for conf"), std::string::npos) << mail.front();
  const std::string link = ConfirmLinkIn(mail.front());
  ASSERT_FALSE(link.empty()) << mail.front();
  auto page = client.Send("GET", link);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("Confirm your account"), std::string::npos);
  const std::string env = link.substr(link.find("env=") + 4, link.find('&') - link.find("env=") - 4);
  const std::string token = link.substr(link.find("token=") + 6);
  const auto form = [&](const std::string& tok, const std::string& pw, const std::string& again) {
    return "env=" + env + "&token=" + tok + "&password=" + pw + "&confirm=" + again;
  };
  const Headers form_type{{"Content-Type", "application/x-www-form-urlencoded"}};
  EXPECT_EQ(client.Send("POST", "/pages/confirm", form(token, "Chosen-pass-1", "Chosen-pass-2"), form_type).status,
            400);  // the two differ: the link is not spent
  auto done = client.Send("POST", "/pages/confirm", form(token, "Chosen-pass-1", "Chosen-pass-1"), form_type);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_NE(done.body.find("Account confirmed"), std::string::npos);
  EXPECT_EQ(client.Send("POST", "/pages/confirm", form(token, "Other-pass-1", "Other-pass-1"), form_type).status, 400);
  // Active now, and signs in with its password (then refused the API, as a mobile worker).
  auto worker = client.Send("GET", users + id + "/", "", key);
  EXPECT_EQ(worker.Json().at("is_active"), json::value(true)) << worker.body;
  EXPECT_EQ(client.Send("GET", users, "", {{"Authorization", basic_header}}).status, 403);
  // A confirmed worker gets no confirmation mail.
  auto resend = client.Send("PUT", users + id + "/", json::serialize(json::object{{"send_confirmation_email_now", true}}),
                            key);
  EXPECT_EQ(resend.status, 400) << resend.body;
  EXPECT_EQ(error_of(resend), "The account of this mobile worker is already confirmed.");
  // Created without the mail, sent later by a PUT; without an email, refused.
  auto later = post({{"username", "finn"}, {"email", "finn@example.org"}, {"require_account_confirmation", true}});
  ASSERT_EQ(later.status, 201) << later.body;
  const std::string finn(later.Json().at("id").as_string());
  auto no_email = client.Send("PUT", users + finn + "/",
                              json::serialize(json::object{{"email", ""}, {"send_confirmation_email_now", true}}), key);
  EXPECT_EQ(no_email.status, 400) << no_email.body;
  EXPECT_EQ(error_of(no_email), "The mobile worker has no email address to send the confirmation to.");
  ASSERT_EQ(client.Send("PUT", users + finn + "/", json::serialize(json::object{{"send_confirmation_email_now", true}}),
                        key)
                .status,
            200);
  ASSERT_EQ(client.Send("PUT", users + finn + "/", json::serialize(json::object{{"send_confirmation_email_now", true}}),
                        key)
                .status,
            200);
  auto finn_mail = sink.WaitForMessagesTo("finn@example.org", 2);
  ASSERT_EQ(finn_mail.size(), 2u);
  const std::string first = ConfirmLinkIn(finn_mail[0]), second = ConfirmLinkIn(finn_mail[1]);
  ASSERT_EQ(client.Send("POST", "/pages/confirm", form(first.substr(first.find("token=") + 6), "Finn-pass-1", "Finn-pass-1"),
                        form_type)
                .status,
            200);
  // The second link of a confirmed account: CommCare's IllegalAccountConfirmation.
  auto again = client.Send("POST", "/pages/confirm",
                           form(second.substr(second.find("token=") + 6), "Finn-pass-2", "Finn-pass-2"), form_type);
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(client.Send("GET", users, "", {{"Authorization", "Basic " + Base64("finn@conf.commcarehq.org:Finn-pass-1")}})
                .status,
            403);
}

// ---- web-user invitations: the mail and the sign-up page (issue 17) ----

// The invitation page's link in a message, as a path on this server.
std::string InvitationLinkIn(const std::string& message) {
  std::smatch m;
  static const std::regex re("https://id\\.example\\.test(/pages/invitation\\?env=[0-9a-f-]+&token=[0-9a-f]{64})");
  return std::regex_search(message, m, re) ? m[1].str() : std::string();
}

// The value of the hidden input `name` of a page's form.
std::string HiddenField(const std::string& page, const std::string& name) {
  std::smatch m;
  const std::regex re("<input type=\"hidden\" name=\"" + name + "\" value=\"([^\"]*)\">");
  return std::regex_search(page, m, re) ? m[1].str() : std::string();
}

// POST .../invitation/v1/ mails the invitee a link; the page shows the project space and
// role, and choosing a password there makes the web user with the invitation's role,
// which then signs in with Basic and Digest's password. The link works once; a mismatch
// or a refused password creates nothing and leaves the link usable.
TEST(CommCareInvitationTest, InviteeSignsUpThroughTheMailedLink) {
  TempDir dir, mail_dir;
  InitDataDir(dir.path());
  const std::string pw_file = dir / "pw-inviter";
  std::ofstream(pw_file) << kPassword << "\n";
  auto made = RunRoster({"commcare", "web-user", "create", "--domain", "invite", "--email", "boss@example.org",
                         "--password-file", pw_file, "--scope", "credentials:admin", "--scope", "profile:read",
                         "--scope", "users:list", "--data-dir", dir.path(), "--json"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const auto boss = json::parse(made.out).as_object();
  SmtpSink sink(mail_dir.path());
  auto args = kFastHashing;
  args.insert(args.end(), {"--smtp-url", sink.url(), "--smtp-from", "roster@example.test", "--public-url",
                           "https://id.example.test"});
  Server server(dir.path(), args);
  Client client(server.base_url());
  const Headers key{{"Authorization", "ApiKey boss@example.org:" + std::string(boss.at("apiKey").as_string())}};
  auto invited = client.Send("POST", "/a/invite/api/invitation/v1/",
                             json::serialize(json::object{{"email", "Ann@Example.org"}, {"role", "App Editor"}}), key);
  ASSERT_EQ(invited.status, 201) << invited.body;
  const std::string detail = "/a/invite/api/invitation/v1/" + std::string(invited.Json().at("id").as_string()) + "/";
  EXPECT_EQ(invited.body.find("token"), std::string::npos) << "the token is in the mail only";
  // The mail and its link.
  auto mail = sink.WaitForMessagesTo("ann@example.org", 1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail.front().find("You have been invited to join the project space invite as App Editor"),
            std::string::npos)
      << mail.front();
  const std::string link = InvitationLinkIn(mail.front());
  ASSERT_FALSE(link.empty()) << mail.front();
  // The page: the project space, the role, a form carrying the link's env and token.
  auto page = client.Send("GET", link);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("<strong>invite</strong>"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("<strong>App Editor</strong>"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("action=\"/pages/invitation\""), std::string::npos) << page.body;
  const std::string env = HiddenField(page.body, "env"), token = HiddenField(page.body, "token");
  ASSERT_FALSE(env.empty());
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(client.Send("GET", "/pages/invitation?env=" + env + "&token=" + std::string(64, 'a')).status, 400);
  const auto form = [&](const std::string& pw, const std::string& again) {
    return "env=" + env + "&token=" + token + "&password=" + pw + "&confirm=" + again;
  };
  const Headers form_type{{"Content-Type", "application/x-www-form-urlencoded"}};
  const std::string users = "/a/invite/api/v0.5/user/";
  const std::string basic = "Basic " + Base64("ann@example.org:Ann-pass-1");
  // Mismatched passwords: refused, nothing made, the invitation still pending.
  auto differ = client.Send("POST", "/pages/invitation", form("Ann-pass-1", "Ann-pass-2"), form_type);
  EXPECT_EQ(differ.status, 400) << differ.body;
  EXPECT_NE(differ.body.find("Passwords differ"), std::string::npos);
  EXPECT_EQ(client.Send("GET", users, "", {{"Authorization", basic}}).status, 401);
  EXPECT_EQ(client.Send("GET", detail, "", key).status, 200);
  // A POST from another site: refused.
  Headers cross = form_type;
  cross.emplace_back("Origin", "https://evil.example");
  EXPECT_EQ(client.Send("POST", "/pages/invitation", form("Ann-pass-1", "Ann-pass-1"), cross).status, 403);
  // Accepted.
  auto done = client.Send("POST", "/pages/invitation", form("Ann-pass-1", "Ann-pass-1"), form_type);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_NE(done.body.find("Invitation accepted"), std::string::npos);
  // The web user signs in with Basic and its password, and has the invitation's role.
  auto listed = client.Send("GET", users, "", {{"Authorization", basic}});
  EXPECT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(client.Send("GET", users, "", {{"Authorization", "Basic " + Base64("ann@example.org:wrong")}}).status,
            401);
  DigestAuth digest("ann@example.org", "Ann-pass-1");  // commcare-export's default mode
  ASSERT_TRUE(digest.Learn(client.Send("GET", users)));
  EXPECT_EQ(client.Send("GET", users, "", {{"Authorization", digest.Header("GET", users)}}).status, 200);
  auto web_users = client.Send("GET", "/a/invite/api/v0.5/web-user/", "", key);
  ASSERT_EQ(web_users.status, 200) << web_users.body;
  const auto web_users_body = web_users.Json();
  bool found = false;
  for (const auto& u : web_users_body.at("objects").as_array())
    if (u.at("email") == json::value("ann@example.org")) {
      found = true;
      EXPECT_EQ(u.at("role"), json::value("App Editor")) << web_users.body;
      EXPECT_EQ(u.at("is_admin"), json::value(false));
    }
  EXPECT_TRUE(found) << web_users.body;
  // No longer pending; the link works once.
  EXPECT_EQ(client.Send("GET", detail, "", key).status, 404);
  auto again = client.Send("POST", "/pages/invitation", form("Ann-pass-9", "Ann-pass-9"), form_type);
  EXPECT_EQ(again.status, 400) << again.body;
  EXPECT_NE(again.body.find("already used"), std::string::npos) << again.body;
  EXPECT_EQ(client.Send("GET", link).status, 400);
  EXPECT_EQ(client.Send("GET", users, "", {{"Authorization", "Basic " + Base64("ann@example.org:Ann-pass-9")}}).status,
            401);
  // Audited: the sign-up is a credential event naming the invitation, and no value.
  auto audit = RunRoster({"audit", "export", "--env", "invite", "--data-dir", dir.path()});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  int accepted = 0;
  std::istringstream lines(audit.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"invitation.accept\"") == std::string::npos) continue;
    ++accepted;
    const auto record = json::parse(line).as_object();
    EXPECT_EQ(record.at("outcome"), json::value("ok")) << line;
    EXPECT_EQ(record.at("principal").at("id"), invited.Json().at("id")) << line;
    EXPECT_EQ(record.at("fields"), json::parse(R"(["password","credentials"])")) << line;
  }
  EXPECT_EQ(accepted, 1) << audit.out;
  EXPECT_EQ(audit.out.find("ann@example.org"), std::string::npos);
  EXPECT_EQ(audit.out.find("Ann-pass-1"), std::string::npos);
}

// `commcare-export --locations --with-organization`: LocationInfoProvider pages through
// location_type and location (v0.5) by meta.next, keys types by resource_uri and walks
// each location's `parent` URI to its ancestors by type code; the users export carries
// user_data.commcare_location_id(s), which the organization columns resolve through it.
TEST_F(CommCareClientTest, LocationsExportWithOrganizationResolvesAncestors) {
  Client client(server_->base_url());
  const Headers key = {{"Authorization", ApiKeyHeader()}};
  const auto post = [&](const std::string& path, const json::object& body) {
    auto r = client.Send("POST", path, json::serialize(body), key);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().is_object() ? r.Json().as_object() : json::object();
  };
  const auto state = post("/a/export/api/v0.5/location_type/", {{"name", "State"}, {"code", "state"}});
  const auto district = post("/a/export/api/v0.5/location_type/", {{"name", "District"}, {"parent", state.at("id")}});
  post("/a/export/api/v0.5/location_type/", {{"name", "Clinic"}, {"parent", district.at("id")}});
  const auto loc = [&](const std::string& name, const std::string& type, const std::string& parent) {
    json::object body{{"name", name}, {"location_type_code", type}};
    if (!parent.empty()) body["parent_location_id"] = parent;
    return std::string(post("/a/export/api/location/v2/", body).at("location_id").as_string());
  };
  const std::string kano = loc("Kano", "state", "");
  const std::string nassarawa = loc("Nassarawa", "district", kano);
  const std::string clinic_a = loc("Clinic A", "clinic", nassarawa);
  const std::string clinic_b = loc("Clinic B", "clinic", nassarawa);
  const std::string worker = *ids_.begin();
  auto assigned = client.Send("PUT", "/a/export/api/v0.5/user/" + worker + "/",
                              json::serialize(json::object{{"locations", json::array{clinic_a, clinic_b}},
                                                           {"primary_location", clinic_b}}),
                              key);
  ASSERT_EQ(assigned.status, 200) << assigned.body;

  HqClient hq(server_->base_url(), "export", DigestAuth(exporter_.email, kPassword), "");
  // get_location_types: every type, keyed by resource_uri.
  std::map<std::string, json::object> types;
  for (auto& t : hq.Iterate("location_type", 2)) types[std::string(t.at("resource_uri").as_string())] = t;
  ASSERT_EQ(types.size(), 3u);
  EXPECT_FALSE(hq.next_links.empty());  // 3 types at 2 a page
  // get_location_hierarchy: resource_uri -> {type code -> location_id}, self included.
  std::map<std::string, json::object> rows;
  const auto locations = hq.Iterate("location", 3);
  ASSERT_EQ(locations.size(), 4u);
  for (const auto& l : locations) rows[std::string(l.at("resource_uri").as_string())] = l;
  std::map<std::string, std::map<std::string, std::string>> ancestors;
  for (const auto& [uri, row] : rows) {
    std::string at = uri;
    for (int guard = 0; guard < 10 && !at.empty(); ++guard) {
      ASSERT_TRUE(rows.count(at)) << "Unknown location referenced: " << at;
      const auto& r = rows.at(at);
      const std::string type_uri(r.at("location_type").as_string());
      ASSERT_TRUE(types.count(type_uri)) << "Unknown location type referenced: " << type_uri;
      ancestors[uri][std::string(types.at(type_uri).at("code").as_string())] = std::string(r.at("location_id").as_string());
      at = r.at("parent").is_null() ? "" : std::string(r.at("parent").as_string());
    }
  }
  // The users table's location columns, and the organization behind the primary one.
  std::optional<json::object> exported;
  for (const auto& u : hq.Iterate("user", 5))
    if (u.at("id") == json::value(worker)) exported = u;
  ASSERT_TRUE(exported.has_value());
  const auto& user_data = exported->at("user_data").as_object();
  EXPECT_EQ(user_data.at("commcare_location_id"), json::value(clinic_b));
  EXPECT_EQ(user_data.at("commcare_location_ids"), json::value(clinic_a + " " + clinic_b));
  EXPECT_EQ(user_data.at("commcare_primary_case_sharing_id"), json::value(clinic_b));
  std::string primary_uri;
  for (const auto& [uri, row] : rows)
    if (row.at("location_id") == user_data.at("commcare_location_id")) primary_uri = uri;
  ASSERT_FALSE(primary_uri.empty());
  EXPECT_EQ(ancestors.at(primary_uri), (std::map<std::string, std::string>{
                                           {"state", kano}, {"district", nassarawa}, {"clinic", clinic_b}}));
  // get_location_info(location_type, field) for the locations table's type columns.
  const auto& clinic_type = types.at(std::string(rows.at(primary_uri).at("location_type").as_string()));
  EXPECT_EQ(clinic_type.at("name"), json::value("Clinic"));
  EXPECT_EQ(clinic_type.at("parent"), district.at("resource_uri"));
}

}  // namespace
}  // namespace roster::testing

#include "service/http_credentials.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "service/record_service.h"
#include "service/service_test_support.h"
#include "service/user_service.h"

namespace roster::service {
namespace {

using core::ErrorCode;

// RFC 7616 §3.9.1: the example's HA1-based responses for both algorithms.
TEST(DigestHashTest, MatchesRfc7616Example) {
  const std::string a1 = "Mufasa:http-auth@example.org:Circle of Life";
  const std::string nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
  const std::string cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
  for (auto [algorithm, expected] :
       {std::pair{DigestAlgorithm::kMd5, "8ca523f5e9506fed4657c9700eebdbec"},
        std::pair{DigestAlgorithm::kSha256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"}}) {
    const std::string ha1 = DigestHash(algorithm, a1);
    const std::string ha2 = DigestHash(algorithm, "GET:/dir/index.html");
    EXPECT_EQ(DigestHash(algorithm, ha1 + ":" + nonce + ":00000001:" + cnonce + ":auth:" + ha2), expected);
  }
  EXPECT_EQ(ParseDigestAlgorithm(""), DigestAlgorithm::kMd5);
  EXPECT_EQ(ParseDigestAlgorithm("sha-256"), DigestAlgorithm::kSha256);
  EXPECT_FALSE(ParseDigestAlgorithm("MD5-sess").has_value());
}

class HttpCredentialsTest : public ::testing::Test, public test_support::ServiceFixture {
 protected:
  HttpCredentialsTest()
      : ServiceFixture("roster-httpcred-"),
        credentials_(services(), "realm") {
    env_ = directory_.CreateEnvironment("clinic")->id;
    other_env_ = directory_.CreateEnvironment("other")->id;
    account_ = *credentials_.PasswordSecrets("admin@example.org", "s3cret pass");
  }

  DigestResponse Answer(const std::string& nonce, const std::string& nc, DigestAlgorithm algorithm,
                        const std::string& password = "s3cret pass") {
    DigestResponse r;
    r.username = "admin@example.org";
    r.realm = "realm";
    r.nonce = nonce;
    r.uri = "/a/clinic/api/v0.5/user/?limit=1";
    r.algorithm = std::string(DigestAlgorithmName(algorithm));
    r.cnonce = "0a4f113b";
    r.nc = nc;
    r.qop = "auth";
    const std::string ha1 = DigestHash(algorithm, r.username + ":realm:" + password);
    const std::string ha2 = DigestHash(algorithm, "GET:" + r.uri);
    r.response = DigestHash(algorithm, ha1 + ":" + nonce + ":" + nc + ":" + r.cnonce + ":auth:" + ha2);
    return r;
  }
  core::Status Verify(const DigestResponse& r, const std::string& env = "") {
    return credentials_.VerifyDigest(env.empty() ? env_ : env, &account_, r, "GET", "/a/clinic/api/v0.5/user/?limit=1",
                                     "127.0.0.1");
  }

  HttpCredentials credentials_;
  std::string env_, other_env_;
  boost::json::object account_;
};

TEST_F(HttpCredentialsTest, StoresArgon2AndHa1sNeverThePassword) {
  EXPECT_EQ(std::string(account_.at("password_hash").as_string()).substr(0, 10), "$argon2id$");
  EXPECT_EQ(account_.at("digest_realm"), boost::json::value("realm"));
  EXPECT_EQ(account_.at("digest_ha1").at("MD5"),
            boost::json::value(DigestHash(DigestAlgorithm::kMd5, "admin@example.org:realm:s3cret pass")));
  EXPECT_EQ(boost::json::serialize(account_).find("s3cret"), std::string::npos);
  EXPECT_EQ(credentials_.PasswordSecrets("a@b.org", "").error().code, ErrorCode::kInvalidArgument);
}

TEST_F(HttpCredentialsTest, BasicPasswordIsCheckedAgainstArgon2) {
  EXPECT_TRUE(credentials_.VerifyPassword(&account_, "s3cret pass", "127.0.0.1").has_value());
  EXPECT_EQ(credentials_.VerifyPassword(&account_, "wrong", "127.0.0.1").error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(credentials_.VerifyPassword(nullptr, "s3cret pass", "127.0.0.1").error().code,
            ErrorCode::kUnauthenticated);
}

TEST_F(HttpCredentialsTest, DigestAcceptsBothAlgorithmsAndRefusesReplays) {
  const std::string nonce = *credentials_.IssueNonce(env_);
  EXPECT_TRUE(Verify(Answer(nonce, "00000001", DigestAlgorithm::kMd5)).has_value());
  // The same count again, or a lower one: replays.
  auto replay = Verify(Answer(nonce, "00000001", DigestAlgorithm::kMd5));
  ASSERT_FALSE(replay.has_value());
  EXPECT_EQ(replay.error().code, ErrorCode::kUnauthenticated);
  EXPECT_NE(replay.error().message.find("replay"), std::string::npos);
  EXPECT_TRUE(Verify(Answer(nonce, "00000002", DigestAlgorithm::kSha256)).has_value());
  EXPECT_FALSE(Verify(Answer(nonce, "00000002", DigestAlgorithm::kSha256)).has_value());
  EXPECT_TRUE(Verify(Answer(nonce, "0000000a", DigestAlgorithm::kMd5)).has_value());
}

TEST_F(HttpCredentialsTest, DigestRefusesWrongAnswers) {
  const std::string nonce = *credentials_.IssueNonce(env_);
  EXPECT_FALSE(Verify(Answer(nonce, "00000001", DigestAlgorithm::kMd5, "wrong")).has_value());
  auto other_uri = Answer(nonce, "00000001", DigestAlgorithm::kMd5);
  other_uri.uri = "/a/clinic/api/v0.5/user/";
  EXPECT_FALSE(Verify(other_uri).has_value());
  auto no_qop = Answer(nonce, "00000001", DigestAlgorithm::kMd5);
  no_qop.qop = "";
  EXPECT_FALSE(Verify(no_qop).has_value());
  auto other_realm = Answer(nonce, "00000001", DigestAlgorithm::kMd5);
  other_realm.realm = "elsewhere";
  EXPECT_FALSE(Verify(other_realm).has_value());
  // A nonce of another environment, a forged one.
  EXPECT_FALSE(Verify(Answer(*credentials_.IssueNonce(other_env_), "00000001", DigestAlgorithm::kMd5)).has_value());
  std::string forged = nonce;
  forged[0] = forged[0] == '9' ? '8' : '9';
  EXPECT_FALSE(Verify(Answer(forged, "00000001", DigestAlgorithm::kMd5)).has_value());
  EXPECT_FALSE(credentials_.VerifyDigest(env_, nullptr, Answer(nonce, "00000001", DigestAlgorithm::kMd5), "GET",
                                         "/a/clinic/api/v0.5/user/?limit=1", "127.0.0.1")
                   .has_value());
  // None of these used the nonce: its first count is still good.
  EXPECT_TRUE(Verify(Answer(nonce, "00000001", DigestAlgorithm::kMd5)).has_value());
}

// The session throttle (60 at once per address) counts guesses, not requests: a nonce
// its username proved costs nothing more; guesses, even with that nonce under another
// username, pay each until the bucket is empty.
TEST_F(HttpCredentialsTest, DigestThrottleChargesGuessesNotAProvenNonce) {
  const std::string nonce = *credentials_.IssueNonce(env_);
  for (int i = 1; i <= 100; ++i) {
    char nc[9];
    std::snprintf(nc, sizeof nc, "%08x", i);
    ASSERT_TRUE(Verify(Answer(nonce, nc, DigestAlgorithm::kMd5)).has_value()) << i;
  }
  int refused = 0;
  core::Status last;
  for (; refused < 100; ++refused) {
    auto guess = Answer(nonce, "00000fff", DigestAlgorithm::kMd5, "guess " + std::to_string(refused));
    guess.username = "other@example.org";
    last = Verify(guess);
    ASSERT_FALSE(last.has_value());
    if (last.error().code == ErrorCode::kResourceExhausted) break;
    EXPECT_EQ(last.error().code, ErrorCode::kUnauthenticated);
  }
  EXPECT_EQ(refused, 59);  // one token went to the nonce's first response
  EXPECT_GE(last.error().retry_after_s, 1);
  // The proven nonce of its own username still costs nothing.
  EXPECT_TRUE(Verify(Answer(nonce, "00001000", DigestAlgorithm::kMd5)).has_value());
}

TEST_F(HttpCredentialsTest, AnExpiredNonceIsStale) {
  const std::string nonce = *credentials_.IssueNonce(env_);
  clock_.now += DigestPolicy{}.nonce_lifetime_ms + 1;
  auto stale = Verify(Answer(nonce, "00000001", DigestAlgorithm::kMd5));
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(stale.error().field, kStaleNonceField);
  // A wrong password with an expired nonce is not "stale": nothing to retry silently.
  auto wrong = Verify(Answer(nonce, "00000002", DigestAlgorithm::kMd5, "wrong"));
  ASSERT_FALSE(wrong.has_value());
  EXPECT_NE(wrong.error().field, kStaleNonceField);
  EXPECT_TRUE(Verify(Answer(*credentials_.IssueNonce(env_), "00000001", DigestAlgorithm::kMd5)).has_value());
}

// ---- users of the directory (CommCare's mobile workers) ----

class UserCredentialsTest : public HttpCredentialsTest {
 protected:
  UserCredentialsTest() {
    CreateUserRequest r;
    r.environment_id = env_;
    r.user.username = "alice@clinic.commcarehq.org";
    r.user.active = true;
    r.password = "alice pass 1";
    user_id_ = users_.Create(r)->user.id;
  }
  DigestResponse WorkerAnswer(const std::string& nonce, const std::string& nc, const std::string& password) {
    DigestResponse r = Answer(nonce, nc, DigestAlgorithm::kMd5, password);
    r.username = "alice@clinic.commcarehq.org";
    const std::string ha1 = DigestHash(DigestAlgorithm::kMd5, r.username + ":realm:" + password);
    const std::string ha2 = DigestHash(DigestAlgorithm::kMd5, "GET:" + r.uri);
    r.response = DigestHash(DigestAlgorithm::kMd5, ha1 + ":" + nonce + ":" + nc + ":" + r.cnonce + ":auth:" + ha2);
    return r;
  }
  core::Result<core::User> VerifyWorker(const DigestResponse& r, const std::string& address = "10.0.0.1") {
    return credentials_.VerifyUserDigest(env_, env_, r, "GET", "/a/clinic/api/v0.5/user/?limit=1", address);
  }
  std::string user_id_;
};

TEST_F(UserCredentialsTest, BasicChecksTheUsersPasswordAsASignInWithoutASession) {
  auto ok = credentials_.VerifyUserPassword(env_, "Alice@clinic.commcarehq.org", "alice pass 1", "10.0.0.1");
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->id, user_id_);
  EXPECT_EQ(credentials_.VerifyUserPassword(env_, "alice@clinic.commcarehq.org", "wrong", "10.0.0.1").error().code,
            ErrorCode::kUnauthenticated);
  EXPECT_EQ(credentials_.VerifyUserPassword(env_, "nobody@clinic.commcarehq.org", "alice pass 1", "10.0.0.1")
                .error()
                .code,
            ErrorCode::kUnauthenticated);
  // A worker of another environment is not found here.
  EXPECT_EQ(credentials_.VerifyUserPassword(other_env_, "alice@clinic.commcarehq.org", "alice pass 1", "10.0.0.1")
                .error()
                .code,
            ErrorCode::kUnauthenticated);
  // An inactive user is refused with the right password.
  ASSERT_TRUE(users_.Update(env_, user_id_, [](core::User& u) -> core::Status {
    u.active = false;
    return {};
  }, std::nullopt).has_value());
  EXPECT_EQ(credentials_.VerifyUserPassword(env_, "alice@clinic.commcarehq.org", "alice pass 1", "10.0.0.1")
                .error()
                .code,
            ErrorCode::kUnauthenticated);
}

TEST_F(UserCredentialsTest, WrongPasswordsLockTheUsernameOutFromThatAddress) {
  for (int i = 0; i < SignInPolicy{}.max_attempts; ++i)
    EXPECT_EQ(credentials_.VerifyUserPassword(env_, "alice@clinic.commcarehq.org", "guess", "10.0.0.2").error().code,
              ErrorCode::kUnauthenticated);
  auto locked = credentials_.VerifyUserPassword(env_, "alice@clinic.commcarehq.org", "alice pass 1", "10.0.0.2");
  ASSERT_FALSE(locked.has_value());
  EXPECT_EQ(locked.error().code, ErrorCode::kResourceExhausted);
  EXPECT_GE(locked.error().retry_after_s, 1);
  // Digest counts against the same lockout.
  auto nonce = *credentials_.IssueNonce(env_);
  EXPECT_EQ(VerifyWorker(WorkerAnswer(nonce, "00000001", "alice pass 1"), "10.0.0.2").error().code,
            ErrorCode::kResourceExhausted);
  // Another address is not locked out; a success there clears nothing of this one's.
  EXPECT_TRUE(credentials_.VerifyUserPassword(env_, "alice@clinic.commcarehq.org", "alice pass 1", "10.0.0.3"));
  EXPECT_TRUE(users_.ClearSignInLockout(env_, user_id_).has_value());
  EXPECT_TRUE(credentials_.VerifyUserPassword(env_, "alice@clinic.commcarehq.org", "alice pass 1", "10.0.0.2"));
  // Successes are not counted: many in a row stay admitted.
  for (int i = 0; i < 2 * SignInPolicy{}.max_attempts; ++i)
    EXPECT_TRUE(credentials_.VerifyUserPassword(env_, "alice@clinic.commcarehq.org", "alice pass 1", "10.0.0.2"));
}

TEST_F(UserCredentialsTest, DigestAnswersWithTheSecretStoredBesideThePassword) {
  // No secret yet (the password was set without one): Digest refuses the right answer.
  auto nonce = *credentials_.IssueNonce(env_);
  EXPECT_EQ(VerifyWorker(WorkerAnswer(nonce, "00000001", "alice pass 1")).error().code, ErrorCode::kUnauthenticated);
  ASSERT_TRUE(credentials_.StoreUserDigest(env_, user_id_, "alice@clinic.commcarehq.org", "alice pass 1"));
  auto ok = VerifyWorker(WorkerAnswer(nonce, "00000002", "alice pass 1"));
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->id, user_id_);
  EXPECT_EQ(VerifyWorker(WorkerAnswer(nonce, "00000003", "wrong")).error().code, ErrorCode::kUnauthenticated);
  // Replays are refused as for web users.
  EXPECT_FALSE(VerifyWorker(WorkerAnswer(nonce, "00000002", "alice pass 1")).has_value());
  // The secret is sealed and holds no password.
  auto stored = records_.Find(env_, kUserDigestKind, user_id_);
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ(boost::json::serialize(stored->front().body).find("alice pass"), std::string::npos);
}

TEST_F(UserCredentialsTest, APasswordChangedByAnyApiRetiresTheOldDigestSecret) {
  ASSERT_TRUE(credentials_.StoreUserDigest(env_, user_id_, "alice@clinic.commcarehq.org", "alice pass 1"));
  // Another API sets a new password: it writes no Digest secret.
  ASSERT_TRUE(users_.Update(env_, user_id_, [](core::User&) -> core::Status { return {}; }, "alice pass 2"));
  auto nonce = *credentials_.IssueNonce(env_);
  EXPECT_EQ(VerifyWorker(WorkerAnswer(nonce, "00000001", "alice pass 1")).error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(VerifyWorker(WorkerAnswer(nonce, "00000002", "alice pass 2")).error().code, ErrorCode::kUnauthenticated);
  // One Basic sign-in with the new password stores the secret for it.
  ASSERT_TRUE(credentials_.VerifyUserPassword(env_, "alice@clinic.commcarehq.org", "alice pass 2", "10.0.0.1"));
  EXPECT_TRUE(VerifyWorker(WorkerAnswer(nonce, "00000003", "alice pass 2")).has_value());
  // A removed password leaves nothing for Digest.
  WriteOptions clear;
  clear.clear_password = true;
  ASSERT_TRUE(users_.Update(env_, user_id_, [](core::User&) -> core::Status { return {}; }, std::nullopt, clear));
  EXPECT_EQ(VerifyWorker(WorkerAnswer(nonce, "00000004", "alice pass 2")).error().code, ErrorCode::kUnauthenticated);
}

}  // namespace
}  // namespace roster::service

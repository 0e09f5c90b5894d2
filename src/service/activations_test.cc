#include "service/activations.h"

#include <gtest/gtest.h>

#include "service/mail_templates.h"
#include "service/record_service.h"
#include "service/service_test_support.h"
#include "service/user_service.h"

namespace roster::service {
namespace {

using core::ErrorCode;

class ActivationsTest : public ::testing::Test, public test_support::ServiceFixture {
 protected:
  ActivationsTest()
      : ServiceFixture("roster-activation-"),
        activations_(services(), "https://id.example.org/pages/activate?t=") {
    env_ = directory_.CreateEnvironment("clinic")->id;
  }

  // A self sign-up as the Catalyze API makes it: PrepareSignUp, then Create.
  core::Result<CreatedUser> SignUp(const std::string& username, const std::string& email) {
    CreateUserRequest r;
    r.environment_id = env_;
    r.user.username = username;
    if (!email.empty()) r.user.profile.emails = {{"home", email, true}};
    r.password = "password-1";
    EXPECT_TRUE(activations_.PrepareSignUp(r).has_value());
    return users_.Create(r);
  }
  core::User SignedUp(const std::string& username, const std::string& email) {
    auto created = SignUp(username, email);
    EXPECT_TRUE(created.has_value());
    return created ? created->user : core::User{};
  }

  std::vector<Mail> Outbox() { return test_support::TakeOutbox(*store_, directory_, env_, clock_.NowMillis()); }

  // The token at the end of the mailed link.
  std::string MailedToken() {
    const auto mail = Outbox();
    EXPECT_EQ(mail.size(), 1u);
    if (mail.empty()) return {};
    const std::string prefix = "https://id.example.org/pages/activate?t=";
    const auto at = mail.front().body.find(prefix);
    EXPECT_NE(at, std::string::npos) << mail.front().body;
    if (at == std::string::npos) return {};
    return mail.front().body.substr(at + prefix.size(), 64);
  }

  Activations activations_;
  std::string env_;
};

TEST_F(ActivationsTest, ModeDefaultsToEmailAndIsKeptPerEnvironment) {
  EXPECT_EQ(*activations_.Mode(env_), ActivationMode::kEmail);
  ASSERT_TRUE(activations_.SetMode(env_, ActivationMode::kNone).has_value());
  EXPECT_EQ(*activations_.Mode(env_), ActivationMode::kNone);
  const auto other = directory_.CreateEnvironment("other")->id;
  EXPECT_EQ(*activations_.Mode(other), ActivationMode::kEmail);
  ASSERT_TRUE(activations_.SetMode(env_, ActivationMode::kEmail).has_value());
  EXPECT_EQ(*activations_.Mode(env_), ActivationMode::kEmail);
  EXPECT_EQ(ParseActivationMode("none"), ActivationMode::kNone);
  EXPECT_FALSE(ParseActivationMode("sms").has_value());
}

TEST_F(ActivationsTest, TheMailedLinkActivatesOnce) {
  const auto user = SignedUp("ada", "ada@example.org");
  EXPECT_FALSE(user.active);
  const std::string token = MailedToken();
  ASSERT_EQ(token.size(), 64u);
  auto done = activations_.Complete(env_, token);
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(done->active);
  EXPECT_TRUE(users_.Get(env_, user.id)->active);
  auto again = activations_.Complete(env_, token);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
}

TEST_F(ActivationsTest, AnExpiredOrUnknownOrForeignTokenActivatesNobody) {
  const auto user = SignedUp("bob", "bob@example.org");
  const std::string token = MailedToken();
  EXPECT_EQ(activations_.Complete(env_, std::string(64, 'a')).error().code, ErrorCode::kNotFound);
  const auto other = directory_.CreateEnvironment("other")->id;
  EXPECT_EQ(activations_.Complete(other, token).error().code, ErrorCode::kNotFound);
  clock_.now += Activations::kTokenLifetimeMs + 1;
  EXPECT_EQ(activations_.Complete(env_, token).error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(users_.Get(env_, user.id)->active);
}

TEST_F(ActivationsTest, NoMailWithoutAnAddressOrForAnActiveUser) {
  EXPECT_FALSE(SignedUp("carl", "").active);  // inactive, and nowhere to mail its link
  EXPECT_TRUE(Outbox().empty());
  ASSERT_TRUE(activations_.SetMode(env_, ActivationMode::kNone).has_value());
  EXPECT_TRUE(SignedUp("dora", "dora@example.org").active);  // active: no link to send
  EXPECT_TRUE(Outbox().empty());
}

// A sign-up (PrepareSignUp, then UserService::Create): in `email` mode the user is
// inactive and its link and mail are written with it; a sign-up refused (a taken
// username) leaves no link and no mail; in `none` mode the user is active, unmailed.
TEST_F(ActivationsTest, ASignUpWritesTheUserAndItsLinkInOneWrite) {
  auto ada = SignUp("ada", "ada@example.org");
  ASSERT_TRUE(ada.has_value()) << ada.error().message;
  EXPECT_FALSE(ada->user.active);
  const std::string token = MailedToken();
  ASSERT_EQ(token.size(), 64u);
  // Refused (the username is taken): nothing else is written either.
  auto twice = SignUp("ada", "other@example.org");
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().code, ErrorCode::kAlreadyExists);
  EXPECT_TRUE(Outbox().empty());
  auto links = records_.List(env_, Activations::kTokenKind, 0, 10);
  ASSERT_TRUE(links.has_value());
  EXPECT_EQ(links->size(), 1u);  // ada's only
  // Without an address: created inactive, no link (an administrator activates it).
  auto carl = SignUp("carl", "");
  ASSERT_TRUE(carl.has_value());
  EXPECT_FALSE(carl->user.active);
  EXPECT_TRUE(Outbox().empty());
  // The link works as Request's does.
  auto done = activations_.Complete(env_, token);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->id, ada->user.id);
  EXPECT_TRUE(done->active);
  // `none` mode: active at once, no mail.
  ASSERT_TRUE(activations_.SetMode(env_, ActivationMode::kNone).has_value());
  auto eve = SignUp("eve", "eve@example.org");
  ASSERT_TRUE(eve.has_value());
  EXPECT_TRUE(eve->user.active);
  EXPECT_TRUE(Outbox().empty());
}

// Records a request asks for are written in the user's own transaction: a callback
// that fails, or a record the store refuses, leaves no user.
TEST_F(ActivationsTest, ACreationWhoseRecordsFailWritesNoUser) {
  const std::int64_t before = *store_->CountUsers(env_);
  CreateUserRequest r;
  r.environment_id = env_;
  r.user.username = "fay";
  r.records = [](const core::User&) -> core::Result<std::vector<NewRecordRequest>> {
    return core::Fail(ErrorCode::kUnavailable, "no link today");
  };
  EXPECT_EQ(users_.Create(r).error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(*store_->CountUsers(env_), before);
  // A record whose claim another record holds: the store refuses the whole write.
  NewRecordRequest held;
  held.environment_id = env_;
  held.kind = "activation";
  held.claims = {{Activations::kTokenClaim, "taken-token", true}};
  ASSERT_TRUE(records_.Create(held).has_value());
  std::string fay_id;
  r.records = [&](const core::User& user) -> core::Result<std::vector<NewRecordRequest>> {
    fay_id = user.id;
    NewRecordRequest link = held;
    link.body = boost::json::object{{"user", user.id}};
    return std::vector<NewRecordRequest>{link};
  };
  auto refused = users_.Create(r);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kAlreadyExists);
  ASSERT_FALSE(fay_id.empty());
  EXPECT_EQ(users_.Get(env_, fay_id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(*store_->CountUsers(env_), before);
  EXPECT_TRUE(Outbox().empty());
  // A batch does not take records.
  auto batch = users_.CreateBatch(env_, {r}, std::nullopt);
  ASSERT_TRUE(batch.has_value());
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_FALSE((*batch)[0].has_value());
}

}  // namespace
}  // namespace roster::service

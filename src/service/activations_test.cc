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

  core::User Create(const std::string& username, const std::string& email, bool active = false) {
    CreateUserRequest r;
    r.environment_id = env_;
    r.user.username = username;
    r.user.active = active;
    if (!email.empty()) r.user.profile.emails = {{"home", email, true}};
    r.password = "password-1";
    auto created = users_.Create(r);
    EXPECT_TRUE(created.has_value());
    return created->user;
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
  const auto user = Create("ada", "ada@example.org");
  ASSERT_TRUE(*activations_.Request(env_, user));
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
  const auto user = Create("bob", "bob@example.org");
  ASSERT_TRUE(*activations_.Request(env_, user));
  const std::string token = MailedToken();
  EXPECT_EQ(activations_.Complete(env_, std::string(64, 'a')).error().code, ErrorCode::kNotFound);
  const auto other = directory_.CreateEnvironment("other")->id;
  EXPECT_EQ(activations_.Complete(other, token).error().code, ErrorCode::kNotFound);
  clock_.now += Activations::kTokenLifetimeMs + 1;
  EXPECT_EQ(activations_.Complete(env_, token).error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(users_.Get(env_, user.id)->active);
}

TEST_F(ActivationsTest, NoMailWithoutAnAddressOrForAnActiveUser) {
  EXPECT_FALSE(*activations_.Request(env_, Create("carl", "")));
  EXPECT_FALSE(*activations_.Request(env_, Create("dora", "dora@example.org", true)));
  EXPECT_TRUE(Outbox().empty());
}

}  // namespace
}  // namespace roster::service

#include "service/account_confirmations.h"

#include <gtest/gtest.h>

#include "service/mail_templates.h"
#include "service/record_service.h"
#include "service/service_test_support.h"
#include "service/user_service.h"

namespace roster::service {
namespace {

using core::ErrorCode;

constexpr const char* kLink = "https://id.example.org/pages/confirm?env=x&token=";

class AccountConfirmationsTest : public ::testing::Test, public test_support::ServiceFixture {
 protected:
  AccountConfirmationsTest()
      : ServiceFixture("roster-confirm-"),
        confirmations_(services(), kLink) {
    env_ = directory_.CreateEnvironment("clinic")->id;
  }

  core::User CreateUnconfirmed(const std::string& username, const std::string& email) {
    CreateUserRequest r;
    r.environment_id = env_;
    r.user.username = username;
    r.user.active = true;
    if (!email.empty()) r.user.profile.emails = {{"home", email, true}};
    AccountConfirmations::MarkUnconfirmed(r.user);
    auto created = users_.Create(r);
    EXPECT_TRUE(created.has_value());
    return created->user;
  }

  std::vector<Mail> Outbox() { return test_support::TakeOutbox(*store_, directory_, env_, clock_.NowMillis()); }

  std::string MailedToken() {
    const auto mail = Outbox();
    EXPECT_EQ(mail.size(), 1u);
    if (mail.empty()) return {};
    const auto at = mail.front().body.find(kLink);
    EXPECT_NE(at, std::string::npos) << mail.front().body;
    if (at == std::string::npos) return {};
    return mail.front().body.substr(at + std::string(kLink).size(), 64);
  }

  AccountConfirmations confirmations_;
  std::string env_;
};

TEST_F(AccountConfirmationsTest, AnUnconfirmedUserIsInactiveWithoutPasswordUntilItConfirms) {
  const auto user = CreateUnconfirmed("mw1@clinic.commcarehq.org", "mw1@example.org");
  EXPECT_FALSE(user.active);
  EXPECT_FALSE(AccountConfirmations::IsConfirmed(user));
  EXPECT_FALSE(*users_.HasPassword(env_, user.id));
  ASSERT_TRUE(confirmations_.Send(env_, user).has_value());
  const auto mail = Outbox();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail.front().to, "mw1@example.org");
  EXPECT_EQ(mail.front().subject, "Confirm your account for clinic");
  EXPECT_NE(mail.front().body.find("168 hours"), std::string::npos) << mail.front().body;
  ASSERT_TRUE(confirmations_.Send(env_, user).has_value());
  const std::string token = MailedToken();
  auto confirmed = confirmations_.Confirm(env_, token, "m0r3s3cr3t!");
  ASSERT_TRUE(confirmed.has_value()) << confirmed.error().message;
  EXPECT_TRUE(confirmed->active);
  EXPECT_TRUE(AccountConfirmations::IsConfirmed(*confirmed));
  EXPECT_TRUE(users_.VerifyPassword(env_, user.id, "m0r3s3cr3t!").has_value());
  // The link works once.
  EXPECT_EQ(confirmations_.Confirm(env_, token, "other pass").error().code, ErrorCode::kNotFound);
}

TEST_F(AccountConfirmationsTest, AConfirmedAccountIsNotConfirmedAgain) {
  const auto user = CreateUnconfirmed("mw2@clinic.commcarehq.org", "mw2@example.org");
  ASSERT_TRUE(confirmations_.Send(env_, user).has_value());
  ASSERT_TRUE(confirmations_.Send(env_, user).has_value());
  const auto mail = Outbox();
  ASSERT_EQ(mail.size(), 2u);
  const auto token_of = [](const Mail& m) {
    return m.body.substr(m.body.find(kLink) + std::string(kLink).size(), 64);
  };
  ASSERT_TRUE(confirmations_.Confirm(env_, token_of(mail[0]), "abc-pass-1").has_value());
  // CommCare's IllegalAccountConfirmation: the second link does not change the password.
  auto again = confirmations_.Confirm(env_, token_of(mail[1]), "def-pass-2");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(users_.VerifyPassword(env_, user.id, "abc-pass-1").has_value());
  // Nor is a confirmation mailed to a confirmed user.
  auto now = users_.Get(env_, user.id);
  EXPECT_EQ(confirmations_.Send(env_, *now).error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(AccountConfirmationsTest, SendNeedsAnEmailAndKeepsToTheMailBudget) {
  const auto silent = CreateUnconfirmed("mw3@clinic.commcarehq.org", "");
  EXPECT_EQ(confirmations_.Send(env_, silent).error().code, ErrorCode::kFailedPrecondition);
  const auto user = CreateUnconfirmed("mw4@clinic.commcarehq.org", "mw4@example.org");
  for (int i = 0; i < PasswordResets::kMailBudget; ++i) ASSERT_TRUE(confirmations_.Send(env_, user).has_value());
  auto spent = confirmations_.Send(env_, user);
  ASSERT_FALSE(spent.has_value());
  EXPECT_EQ(spent.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(Outbox().size(), static_cast<std::size_t>(PasswordResets::kMailBudget));
  EXPECT_EQ(confirmations_.Confirm(env_, "no-such-token", "pass-word-1").error().code, ErrorCode::kNotFound);
}

// PrepareNew: unconfirmed and, sent now, the link and its mail in the user's own write;
// a creation refused (a taken username) mails nothing; the link confirms as Send's does.
TEST_F(AccountConfirmationsTest, ANewUserSentItsLinkNowGetsItInTheSameWrite) {
  const auto create = [&](const std::string& username, const std::string& email, bool send_now) {
    CreateUserRequest r;
    r.environment_id = env_;
    r.user.username = username;
    r.user.active = true;
    if (!email.empty()) r.user.profile.emails = {{"home", email, true}};
    confirmations_.PrepareNew(r, send_now);
    return users_.Create(r);
  };
  auto later = create("mw5@clinic.commcarehq.org", "mw5@example.org", false);
  ASSERT_TRUE(later.has_value());
  EXPECT_FALSE(later->user.active);
  EXPECT_FALSE(AccountConfirmations::IsConfirmed(later->user));
  EXPECT_TRUE(Outbox().empty());
  auto now = create("mw6@clinic.commcarehq.org", "mw6@example.org", true);
  ASSERT_TRUE(now.has_value()) << now.error().message;
  EXPECT_FALSE(now->user.active);
  const std::string token = MailedToken();
  ASSERT_EQ(token.size(), 64u);
  auto taken = create("mw6@clinic.commcarehq.org", "other@example.org", true);
  ASSERT_FALSE(taken.has_value());
  EXPECT_EQ(taken.error().code, ErrorCode::kAlreadyExists);
  EXPECT_TRUE(Outbox().empty());
  // No address to send to: refused, and no user is written.
  const std::int64_t before = *store_->CountUsers(env_);
  auto unaddressed = create("mw7@clinic.commcarehq.org", "", true);
  ASSERT_FALSE(unaddressed.has_value());
  EXPECT_EQ(unaddressed.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(*store_->CountUsers(env_), before);
  auto confirmed = confirmations_.Confirm(env_, token, "a-new-password-1");
  ASSERT_TRUE(confirmed.has_value()) << confirmed.error().message;
  EXPECT_EQ(confirmed->id, now->user.id);
  EXPECT_TRUE(confirmed->active);
  EXPECT_TRUE(AccountConfirmations::IsConfirmed(*confirmed));
}

}  // namespace
}  // namespace roster::service

#include "service/password_resets.h"

#include <gtest/gtest.h>

#include <cctype>

#include "service/mail_templates.h"
#include "service/record_service.h"
#include "service/service_test_support.h"
#include "service/user_service.h"

namespace roster::service {
namespace {

using core::ErrorCode;

const ResetTokens kTokens{"test.reset", "test.reset.token"};

class PasswordResetsTest : public ::testing::Test, public test_support::ServiceFixture {
 protected:
  PasswordResetsTest()
      : ServiceFixture("roster-reset-"),
        resets_(services(), kTokens) {
    env_ = directory_.CreateEnvironment("clinic")->id;
    // The mail is the token alone, so a test can read it back.
    EXPECT_TRUE(SaveTemplate(records_, env_, "password_reset", {"Reset for {{username}} at {{environment}}", "{{token}}"})
                    .has_value());
  }

  CreatedUser Create(const std::string& username, const std::string& email) {
    CreateUserRequest r;
    r.environment_id = env_;
    r.user.username = username;
    r.user.active = true;
    if (!email.empty()) r.user.profile.emails = {{"home", email, true}};
    r.password = "old-password-1";
    r.issue_session = true;
    auto created = users_.Create(r);
    EXPECT_TRUE(created.has_value());
    return *created;
  }

  // The messages waiting in the outbox, opened.
  std::vector<Mail> Outbox() { return test_support::TakeOutbox(*store_, directory_, env_, clock_.NowMillis()); }

  // Requests a reset for `user` and returns the mailed token.
  std::string RequestToken(const core::User& user) {
    auto sent = resets_.Request(env_, "reset:" + user.username, &user);
    EXPECT_TRUE(sent.has_value() && *sent);
    const auto mail = Outbox();
    EXPECT_EQ(mail.size(), 1u);
    return mail.empty() ? std::string() : mail.front().body;
  }

  PasswordResets resets_;
  std::string env_;
};

TEST_F(PasswordResetsTest, RequestStoresTheTokenAndItsMailTogether) {
  const auto ada = Create("ada", "Ada@Example.org");
  auto sent = resets_.Request(env_, "reset:ada", &ada.user);
  ASSERT_TRUE(sent.has_value());
  EXPECT_TRUE(*sent);
  ASSERT_EQ(*store_->CountMail(), 1);
  const auto mail = Outbox();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].to, "Ada@Example.org");
  EXPECT_EQ(mail[0].subject, "Reset for ada at clinic");
  // The mailed token is the one stored, under this API's kind, expiring in an hour.
  auto found = records_.Find(env_, kTokens.claim_kind, mail[0].body);
  ASSERT_TRUE(found.has_value());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front().kind, kTokens.record_kind);
  EXPECT_EQ(found->front().expires_at_ms, clock_.NowMillis() + PasswordResets::kTokenLifetimeMs);
}

TEST_F(PasswordResetsTest, CompleteSetsThePasswordEndsSessionsAndUsesTheTokenOnce) {
  const auto ada = Create("ada", "ada@example.org");
  const std::string token = RequestToken(ada.user);
  auto done = resets_.Complete(env_, token, "new-password-2");
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->id, ada.user.id);
  EXPECT_FALSE(users_.AuthenticateSession(*ada.session_token).has_value());
  EXPECT_TRUE(users_.SignIn(env_, "ada", "new-password-2", "192.0.2.1").has_value());
  const auto notice = Outbox();  // the owner of the address hears of it
  ASSERT_EQ(notice.size(), 1u);
  EXPECT_EQ(notice[0].to, "ada@example.org");
  EXPECT_EQ(notice[0].subject, "Your password was changed");
  auto again = resets_.Complete(env_, token, "new-password-3");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(users_.SignIn(env_, "ada", "new-password-2", "192.0.2.1").has_value());
}

TEST_F(PasswordResetsTest, ShortCodesLiveTheirOwnLifetimeAreCaseInsensitiveAndApplyAChange) {
  const auto ada = Create("ada", "ada@example.org");
  ResetTokens codes{"test.code", "test.code.value"};
  codes.lifetime_ms = 5 * 60 * 1000;
  codes.code_length = 8;
  PasswordResets resets(services(), codes);
  ASSERT_TRUE(resets.Request(env_, "code:ada", &ada.user).value_or(false));
  auto mail = Outbox();
  ASSERT_EQ(mail.size(), 1u);
  const std::string code = mail[0].body;
  ASSERT_EQ(code.size(), 8u);
  for (char c : code) EXPECT_TRUE(std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c))) << code;
  auto found = records_.Find(env_, codes.claim_kind, code);
  ASSERT_TRUE(found.has_value() && found->size() == 1u);
  EXPECT_EQ(found->front().expires_at_ms, clock_.NowMillis() + 5 * 60 * 1000);
  std::string lower = code;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto done = resets.Complete(env_, lower, "new-password-2", ada.user.id, [](core::User& u) -> core::Status {
    u.profile.title = "recovered";
    return {};
  });
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->profile.title, "recovered");
  EXPECT_TRUE(users_.SignIn(env_, "ada", "new-password-2", "192.0.2.1").has_value());
  // A code past its five minutes is refused.
  (void)Outbox();
  ASSERT_TRUE(resets.Request(env_, "code:ada", &ada.user).value_or(false));
  mail = Outbox();
  ASSERT_EQ(mail.size(), 1u);
  clock_.now += 5 * 60 * 1000 + 1;
  EXPECT_EQ(resets.Complete(env_, mail[0].body, "new-password-3", ada.user.id).error().code, ErrorCode::kNotFound);
}

TEST_F(PasswordResetsTest, TokensMayBeMailedWithTheirOwnTemplate) {
  const auto ada = Create("ada", "ada@example.org");
  ResetTokens codes{"test.code", "test.code.value"};
  codes.code_length = 8;
  codes.lifetime_ms = 5 * 60 * 1000;
  codes.mail_template = "recovery_code";
  PasswordResets resets(services(), codes);
  // The built-in recovery_code wording: a code to enter, no link; not the password_reset one.
  ASSERT_TRUE(resets.Request(env_, "code:ada", &ada.user).value_or(false));
  auto mail = Outbox();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].subject, "Your password recovery code");
  EXPECT_NE(mail[0].body.find("within 5 minutes"), std::string::npos) << mail[0].body;
  EXPECT_EQ(mail[0].body.find("link"), std::string::npos) << mail[0].body;
  // The environment's own recovery_code template, with {{code}}.
  ASSERT_TRUE(SaveTemplate(records_, env_, "recovery_code", {"Code for {{username}}", "{{code}}"}).has_value());
  ASSERT_TRUE(resets.Request(env_, "code:ada", &ada.user).value_or(false));
  mail = Outbox();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].subject, "Code for ada");
  ASSERT_EQ(mail[0].body.size(), 8u);
  EXPECT_TRUE(resets.Complete(env_, mail[0].body, "new-password-2", ada.user.id).has_value());
}

TEST_F(PasswordResetsTest, AnExpiredTokenIsRefused) {
  const auto ada = Create("ada", "ada@example.org");
  const std::string token = RequestToken(ada.user);
  clock_.now += PasswordResets::kTokenLifetimeMs + 1;
  auto done = resets_.Complete(env_, token, "new-password-2");
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(users_.SignIn(env_, "ada", "old-password-1", "192.0.2.1").has_value());
}

TEST_F(PasswordResetsTest, ATokenForAnotherUserIsRefusedAndStaysUsable) {
  const auto ada = Create("ada", "ada@example.org");
  const auto bob = Create("bob", "bob@example.org");
  const std::string token = RequestToken(ada.user);
  auto wrong = resets_.Complete(env_, token, "new-password-2", bob.user.id);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(users_.SignIn(env_, "bob", "old-password-1", "192.0.2.1").has_value());
  EXPECT_TRUE(resets_.Complete(env_, token, "new-password-2", ada.user.id).has_value());
}

TEST_F(PasswordResetsTest, AnotherApisTokensDoNotComplete) {
  const auto ada = Create("ada", "ada@example.org");
  const std::string token = RequestToken(ada.user);
  PasswordResets other(services(), {"other.reset", "other.reset.token"});
  auto done = other.Complete(env_, token, "new-password-2");
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(resets_.Complete(env_, token, "new-password-2").has_value());
}

TEST_F(PasswordResetsTest, NobodyToMailOrASpentBudgetSendsNothing) {
  const auto ada = Create("ada", "ada@example.org");
  const auto mute = Create("mute", "");
  auto nobody = resets_.Request(env_, "reset:ghost", nullptr);
  ASSERT_TRUE(nobody.has_value());
  EXPECT_FALSE(*nobody);
  auto no_address = resets_.Request(env_, "reset:mute", &mute.user);
  ASSERT_TRUE(no_address.has_value());
  EXPECT_FALSE(*no_address);
  EXPECT_EQ(*store_->CountMail(), 0);
  for (int i = 0; i < PasswordResets::kMailBudget; ++i) EXPECT_TRUE(*resets_.Request(env_, "reset:ada", &ada.user));
  auto spent = resets_.Request(env_, "reset:ada", &ada.user);
  ASSERT_TRUE(spent.has_value());
  EXPECT_FALSE(*spent);
  EXPECT_EQ(*store_->CountMail(), PasswordResets::kMailBudget);
  // The budget is per key: another key still mails.
  EXPECT_TRUE(*resets_.Request(env_, "reset:ada@example.org", &ada.user));
}

}  // namespace
}  // namespace roster::service

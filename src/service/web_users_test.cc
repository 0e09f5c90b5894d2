#include "service/web_users.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/rules.h"
#include "service/http_credentials.h"
#include "service/invitations.h"
#include "service/service_test_support.h"
#include "service/user_service.h"

namespace roster::service {
namespace {

using core::ErrorCode;

constexpr const char* kLink = "https://id.example.org/pages/invitation?env=x&token=";

class InvitationSignUpTest : public ::testing::Test, public test_support::ServiceFixture {
 protected:
  InvitationSignUpTest()
      : ServiceFixture("roster-invite-"),
        s_(services()) {
    env_ = *directory_.CreateEnvironment("demo");
  }

  // Invites `email` as `role`, and returns the token of the mailed link.
  std::string Invite(const std::string& email, const std::string& role) {
    core::Principal admin;
    admin.environment_id = env_.id;
    admin.scopes = core::kAllScopes;
    InvitationFields f;
    f.email = email;
    f.role = role;
    auto created = InvitationAccess(records_, admin).Create(f, InvitationMail{kLink, env_.name, clock_.NowMillis()});
    EXPECT_TRUE(created.has_value());
    const auto mail = test_support::TakeOutbox(*store_, directory_, env_.id, clock_.NowMillis());
    EXPECT_EQ(mail.size(), 1u);
    if (mail.empty()) return {};
    EXPECT_EQ(mail.front().to, core::NormalizeEmail(email));
    EXPECT_EQ(mail.front().subject, "You are invited to join demo");
    EXPECT_NE(mail.front().body.find("You have been invited to join the project space demo as " + role),
              std::string::npos)
        << mail.front().body;
    EXPECT_NE(mail.front().body.find("within 7 days"), std::string::npos) << mail.front().body;
    const auto at = mail.front().body.find(kLink);
    EXPECT_NE(at, std::string::npos) << mail.front().body;
    if (at == std::string::npos) return {};
    return mail.front().body.substr(at + std::string(kLink).size(), 64);
  }

  Services s_;
  Environment env_;
};

TEST_F(InvitationSignUpTest, TheMailedTokenMakesTheWebUserWithTheInvitationsRoleOnce) {
  const std::string token = Invite("Ann@Example.org", "App Editor");
  ASSERT_EQ(token.size(), 64u);
  auto found = FindInvitationByToken(s_, env_.id, token);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->body.at("email"), "ann@example.org");
  EXPECT_EQ(found->body.at("role"), "App Editor");
  auto made = SignUpByInvitation(s_, env_.id, token, "Ann-pass-1");
  ASSERT_TRUE(made.has_value()) << made.error().message;
  EXPECT_EQ(made->record.kind, kWebUserKind);
  EXPECT_EQ(made->record.body.at("email"), "ann@example.org");
  EXPECT_EQ(made->record.body.at("role"), "App Editor");
  ASSERT_TRUE(made->accepted_invitation.has_value());
  EXPECT_EQ(made->accepted_invitation->id, found->id);
  // The password is the web user's, as Basic checks it.
  HttpCredentials credentials(s_, kWebUserDigestRealm);
  EXPECT_TRUE(credentials.VerifyPassword(&made->record.body, "Ann-pass-1", "127.0.0.1").has_value());
  EXPECT_FALSE(credentials.VerifyPassword(&made->record.body, "wrong", "127.0.0.1").has_value());
  // Once: the invitation is no longer pending and the token is unknown.
  auto pending = InvitationAccess(records_, core::Principal{.environment_id = env_.id, .scopes = core::kAllScopes})
                     .FindByEmail("ann@example.org");
  ASSERT_TRUE(pending.has_value());
  EXPECT_FALSE(pending->has_value());
  auto again = SignUpByInvitation(s_, env_.id, token, "Ann-pass-2");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(FindInvitationByToken(s_, env_.id, token).error().code, ErrorCode::kNotFound);
}

TEST_F(InvitationSignUpTest, UnknownExpiredAndOtherEnvironmentsTokensAreRefused) {
  const std::string token = Invite("bob@example.org", "Read Only");
  EXPECT_EQ(FindInvitationByToken(s_, env_.id, std::string(64, 'a')).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(FindInvitationByToken(s_, env_.id, "").error().code, ErrorCode::kNotFound);
  const auto other = *directory_.CreateEnvironment("other");
  EXPECT_EQ(SignUpByInvitation(s_, other.id, token, "Bob-pass-1").error().code, ErrorCode::kNotFound);
  // A refused password spends nothing.
  auto empty = SignUpByInvitation(s_, env_.id, token, "");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(FindInvitationByToken(s_, env_.id, token).has_value());
  // Seven days later the link has expired; nothing is made.
  clock_.now += kInvitationLinkLifetimeMs;
  auto late = SignUpByInvitation(s_, env_.id, token, "Bob-pass-1");
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code, ErrorCode::kNotFound);
  auto web_user = records_.Find(env_.id, kWebUserEmailClaim, "bob@example.org");
  ASSERT_TRUE(web_user.has_value());
  EXPECT_TRUE(web_user->empty());
}

// However many requests race with one link, one web user is made and one invitation taken.
TEST_F(InvitationSignUpTest, ConcurrentSignUpsWithOneLinkMakeOneWebUser) {
  const std::string token = Invite("dee@example.org", "Read Only");
  std::atomic<int> made{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      auto r = SignUpByInvitation(s_, env_.id, token, "Dee-pass-" + std::to_string(i));
      if (r) ++made;
      else if (r.error().code == ErrorCode::kNotFound || r.error().code == ErrorCode::kAlreadyExists) ++refused;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(made.load(), 1);
  EXPECT_EQ(refused.load(), 3);
  auto web_users = records_.Find(env_.id, kWebUserEmailClaim, "dee@example.org");
  ASSERT_TRUE(web_users.has_value());
  ASSERT_EQ(web_users->size(), 1u);
  EXPECT_EQ(web_users->front().body.at("role"), "Read Only");
}

TEST_F(InvitationSignUpTest, AnInvitationWithoutMailHasNoLink) {
  core::Principal admin;
  admin.environment_id = env_.id;
  admin.scopes = core::kAllScopes;
  InvitationFields f;
  f.email = "cy@example.org";
  f.role = "Admin";
  ASSERT_TRUE(InvitationAccess(records_, admin).Create(f).has_value());
  EXPECT_TRUE(test_support::TakeOutbox(*store_, directory_, env_.id, clock_.NowMillis()).empty());
  // The CLI's create (no password) still accepts it.
  auto made = CreateWebUser(s_, env_, "cy@example.org");
  ASSERT_TRUE(made.has_value());
  ASSERT_TRUE(made->accepted_invitation.has_value());
  EXPECT_FALSE(made->record.body.contains("password_hash"));
}

}  // namespace
}  // namespace roster::service

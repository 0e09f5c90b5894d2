#include "dialects/pages/pages.h"

#include <optional>
#include <variant>

#include "http/form.h"
#include "service/account_confirmations.h"
#include "service/activations.h"
#include "service/web_users.h"

namespace roster::dialects::pages {
namespace {

constexpr std::size_t kMaxFields = 16;
constexpr std::size_t kMaxPassword = 1024;


// The one value of `name`, or empty.
std::string Field(const std::vector<std::pair<std::string, std::string>>& fields, std::string_view name) {
  for (const auto& [k, v] : fields)
    if (k == name) return v;
  return {};
}

// Every page: one small document, no script, no external resource, not framable.
http::Response Page(int status, std::string_view title, const std::string& body_html) {
  http::Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<title>" + EscapeHtml(title) + "</title>"
           "<style>body{font-family:sans-serif;max-width:28em;margin:3em auto;padding:0 1em}"
           "label,input,button{display:block;margin:.5em 0}input{width:100%}</style></head>"
           "<body><h1>" + EscapeHtml(title) + "</h1>\n" + body_html + "\n</body></html>\n";
  r.headers = {{"Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; "
                "base-uri 'none'"},
               {"X-Frame-Options", "DENY"},
               {"Referrer-Policy", "no-referrer"},
               {"X-Content-Type-Options", "nosniff"}};
  return r;
}

http::Response Message(int status, std::string_view title, std::string_view text) {
  return Page(status, title, "<p>" + EscapeHtml(text) + "</p>");
}

std::string Hidden(std::string_view name, std::string_view value) {
  return "<input type=\"hidden\" name=\"" + EscapeHtml(name) + "\" value=\"" + EscapeHtml(value) + "\">";
}

// A token and its environment from the link's query or the form's body.
struct Carried {
  std::string env, token;
  bool ok() const { return !env.empty() && env.size() <= 64 && !token.empty() && token.size() <= 256; }
};

// A form choosing a password (typed twice), posting the link's env and token to `action`.
std::string PasswordForm(std::string_view action, const Carried& c, std::string_view label, std::string_view again,
                         std::string_view button) {
  return "<form method=\"post\" action=\"" + EscapeHtml(action) + "\">" + Hidden("env", c.env) +
         Hidden("token", c.token) + "<label for=\"password\">" + std::string(label) +
         "</label>"
         "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" "
         "required maxlength=\"1024\">"
         "<label for=\"confirm\">" +
         std::string(again) +
         "</label>"
         "<input id=\"confirm\" name=\"confirm\" type=\"password\" autocomplete=\"new-password\" "
         "required maxlength=\"1024\">"
         "<button type=\"submit\">" +
         std::string(button) + "</button></form>";
}

http::Response BadLink() {
  return Message(400, "Link not valid", "This link is incomplete. Open the link from the message again.");
}
http::Response Expired() {
  return Message(400, "Link not valid", "This link is invalid, was already used or has expired. Ask for a new one.");
}

// A POST's fields, after the CSRF and throttle checks; or the page to answer instead.
std::variant<std::vector<std::pair<std::string, std::string>>, http::Response> PostedFields(
    const Services& s, const http::Request& req) {
  if (!http::SameOrigin(req)) return Message(403, "Not allowed", "This form must be sent from its own page.");
  auto fields = ParseForm(req.body);
  if (!fields) return Message(400, "Form not valid", "The form could not be read. Open the link again.");
  // The reset throttle, per address and per environment the form names.
  const std::string env = Field(*fields, "env").substr(0, 64);
  if (auto st = s.users.Admit(service::ThrottledAction::kPasswordReset, req.peer, "pages:" + env); !st)
    return http::WithRetryAfter(Message(429, "Too many requests", "Too many requests. Try again in a minute."),
                                st.error());
  return std::move(*fields);
}

Carried CarriedIn(const std::vector<std::pair<std::string, std::string>>& fields) {
  return {Field(fields, "env"), Field(fields, "token")};
}

// The env and token a mailed link's query carries; nullopt for a link that is not ours.
std::optional<Carried> LinkOf(const http::Request& req) {
  auto fields = ParseForm(req.query);
  if (!fields) return std::nullopt;
  Carried c = CarriedIn(*fields);
  if (!c.ok()) return std::nullopt;
  return c;
}

// The link and the first password a page's form POST carries (typed twice; the account
// and web-user rules: 1..1024 bytes, which the service checks again), after the CSRF and
// throttle checks; or the page refusing it.
struct FirstPassword {
  Carried link;
  std::string password;
};
std::variant<FirstPassword, http::Response> PostedFirstPassword(const Services& s, const http::Request& req) {
  auto posted = PostedFields(s, req);
  if (auto* page = std::get_if<http::Response>(&posted)) return *page;
  const auto& fields = std::get<0>(posted);
  FirstPassword out{CarriedIn(fields), Field(fields, "password")};
  if (!out.link.ok()) return BadLink();
  if (out.password.empty() || out.password.size() > kMaxPassword)
    return Message(400, "Password not valid", "Choose a password of at most 1024 bytes. Go back and try again.");
  if (out.password != Field(fields, "confirm"))
    return Message(400, "Passwords differ", "The two passwords differ. Go back and type them again.");
  return out;
}

}  // namespace

std::string EscapeHtml(std::string_view text) { return http::EscapeHtml(text); }

bool SameOrigin(const http::Request& req) { return http::SameOrigin(req); }

std::optional<std::vector<std::pair<std::string, std::string>>> ParseForm(std::string_view body) {
  return http::ParseForm(body, kMaxFields);
}

void Mount(http::Router& router, const Services& s, const Config& config) {
  router.SetErrorRenderer("/pages", [](int status, std::string_view message) {
    return Message(status, status == 404 ? "Not found" : "Error", message);
  });

  router.Add("GET", "/pages/activate", http::Exec::kInline, [](const http::Request& req, const http::PathParams&) {
    const auto link = LinkOf(req);
    if (!link) return BadLink();
    const Carried& c = *link;
    // Activation happens on the POST, not here: a mail scanner following the link
    // activates nobody.
    return Page(200, "Activate your account",
                "<form method=\"post\" action=\"/pages/activate\">" + Hidden("env", c.env) + Hidden("token", c.token) +
                    "<button type=\"submit\">Activate my account</button></form>");
  });

  router.Add("POST", "/pages/activate", http::Exec::kWorker, [s](const http::Request& req, const http::PathParams&) {
    auto posted = PostedFields(s, req);
    if (auto* page = std::get_if<http::Response>(&posted)) return *page;
    const Carried c = CarriedIn(std::get<0>(posted));
    if (!c.ok()) return BadLink();
    auto done = service::Activations(s).Complete(c.env, c.token);
    if (!done) {
      if (done.error().code == core::ErrorCode::kNotFound) return Expired();
      return Message(503, "Try again", "The account could not be activated just now. Try again in a moment.");
    }
    return Message(200, "Account activated", "Your account is active. You can sign in now.");
  });

  // Account confirmation (service/account_confirmations.h; CommCare's two-stage
  // provisioning): the user chooses its first password, which confirms and activates it.
  router.Add("GET", "/pages/confirm", http::Exec::kInline, [](const http::Request& req, const http::PathParams&) {
    const auto link = LinkOf(req);
    if (!link) return BadLink();
    const Carried& c = *link;
    return Page(200, "Confirm your account",
                PasswordForm("/pages/confirm", c, "Choose your password", "The password again", "Confirm my account"));
  });
  router.Add("POST", "/pages/confirm", http::Exec::kWorker, [s](const http::Request& req, const http::PathParams&) {
    auto chosen = PostedFirstPassword(s, req);
    if (auto* page = std::get_if<http::Response>(&chosen)) return *page;
    const Carried& c = std::get<0>(chosen).link;
    const std::string& password = std::get<0>(chosen).password;
    auto done = service::AccountConfirmations(s).Confirm(c.env, c.token, password);
    if (!done) {
      if (done.error().code == core::ErrorCode::kNotFound) return Expired();
      if (done.error().code == core::ErrorCode::kFailedPrecondition)
        return Message(409, "Already confirmed", "This account is already confirmed. Sign in with its password.");
      if (done.error().code == core::ErrorCode::kInvalidArgument)
        return Message(400, "Password not valid", done.error().message);
      return Message(503, "Try again", "The account could not be confirmed just now. Try again in a moment.");
    }
    return Message(200, "Account confirmed", "Your account is confirmed. You can sign in with your password now.");
  });

  // Web-user invitations (service/invitations.h, web_users.h; CommCare's accept-invitation
  // page): the invitee sees the project space and role and signs up by choosing a
  // password; the web user is made and the invitation accepted on the POST, once.
  router.Add("GET", "/pages/invitation", http::Exec::kWorker, [s](const http::Request& req, const http::PathParams&) {
    const auto link = LinkOf(req);
    if (!link) return BadLink();
    const Carried& c = *link;
    auto invitation = service::FindInvitationByToken(s, c.env, c.token);
    if (!invitation) {
      if (invitation.error().code == core::ErrorCode::kNotFound) return Expired();
      return Message(503, "Try again", "The invitation could not be read just now. Try again in a moment.");
    }
    auto env = s.directory.GetEnvironment(c.env);
    const auto text = [&](const char* key) {
      const auto* v = invitation->body.if_contains(key);
      return v && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    return Page(200, "Accept your invitation",
                "<p>You have been invited to join the project space <strong>" +
                    EscapeHtml(env ? env->name : c.env) + "</strong> as <strong>" + EscapeHtml(text("role")) +
                    "</strong>. Your username is <strong>" + EscapeHtml(text("email")) + "</strong>.</p>" +
                    PasswordForm("/pages/invitation", c, "Choose your password", "The password again",
                                 "Accept the invitation"));
  });
  router.Add("POST", "/pages/invitation", http::Exec::kWorker, [s](const http::Request& req, const http::PathParams&) {
    auto chosen = PostedFirstPassword(s, req);
    if (auto* page = std::get_if<http::Response>(&chosen)) return *page;
    const Carried& c = std::get<0>(chosen).link;
    const std::string& password = std::get<0>(chosen).password;
    auto done = service::SignUpByInvitation(s, c.env, c.token, password);
    if (!done) {
      if (done.error().code == core::ErrorCode::kNotFound) return Expired();
      if (done.error().code == core::ErrorCode::kAlreadyExists)
        return Message(409, "Already a member",
                       "A web user with this email address is already in this project. Sign in with its password.");
      if (done.error().code == core::ErrorCode::kInvalidArgument)
        return Message(400, "Password not valid", done.error().message);
      return Message(503, "Try again", "The invitation could not be accepted just now. Try again in a moment.");
    }
    return Message(200, "Invitation accepted",
                   "You have joined the project space. You can sign in with your email address and password now.");
  });

  for (const auto& flow : config.resets) {
    const std::string path = "/pages/reset/" + flow.api;
    router.Add("GET", path, http::Exec::kInline, [path](const http::Request& req, const http::PathParams&) {
      const auto link = LinkOf(req);
      if (!link) return BadLink();
      const Carried& c = *link;
      return Page(200, "Choose a new password",
                  PasswordForm(path, c, "New password", "New password again", "Set the new password"));
    });
    router.Add("POST", path, http::Exec::kWorker, [s, flow](const http::Request& req, const http::PathParams&) {
      auto posted = PostedFields(s, req);
      if (auto* page = std::get_if<http::Response>(&posted)) return *page;
      const auto& fields = std::get<0>(posted);
      const Carried c = CarriedIn(fields);
      if (!c.ok()) return BadLink();
      const std::string password = Field(fields, "password");
      // Checked before the token is taken, so a typo does not spend the link.
      std::size_t chars = 0;
      for (unsigned char c : password) chars += (c & 0xC0) != 0x80;
      if (chars < flow.min_password_chars || password.size() > kMaxPassword)
        return Message(400, "Password not valid",
                       "Choose a password of at least " + std::to_string(flow.min_password_chars) +
                           " characters (and at most 1024 bytes). Go back and try again.");
      if (password != Field(fields, "confirm"))
        return Message(400, "Passwords differ", "The two passwords differ. Go back and type them again.");
      auto reset = service::PasswordResets(s, flow.tokens).Complete(c.env, c.token, password);
      if (!reset) {
        if (reset.error().code == core::ErrorCode::kNotFound) return Expired();
        if (reset.error().code == core::ErrorCode::kInvalidArgument)
          return Message(400, "Password not valid", reset.error().message);
        return Message(503, "Try again", "The password could not be set just now. Try again in a moment.");
      }
      return Message(200, "Password changed", "Your password was changed. You can sign in with it now.");
    });
  }
}

}  // namespace roster::dialects::pages

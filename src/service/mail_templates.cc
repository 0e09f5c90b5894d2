#include "service/mail_templates.h"

#include "core/rules.h"

namespace roster::service {
namespace {

constexpr const char* kNameClaim = "mail_template.name";

}  // namespace

bool IsKnownTemplate(std::string_view name) {
  return name == "forgot_username" || name == "password_reset" || name == "password_changed" ||
         name == "email_changed" || name == "activation" || name == "recovery_code" ||
         name == "account_confirmation" || name == "invitation";
}

MailTemplate DefaultTemplate(std::string_view name) {
  if (name == "forgot_username")
    return {"Your username",
            "Hello,\n\nYou asked for the username of your account. It is:\n\n    {{username}}\n\n"
            "If you did not ask for it, you can ignore this message.\n"};
  if (name == "password_reset")
    return {"Reset your password",
            "Hello {{username}},\n\nOpen this link to choose a new password within {{expiresInMinutes}} minutes:\n\n"
            "    {{link}}\n\nThe link works once. If your application asks for a code, it is:\n\n    {{token}}\n\n"
            "If you did not ask to reset your password, you can ignore this message.\n"};
  // PingOne's sendRecoveryCode: a code to type into the application, no link.
  if (name == "recovery_code")
    return {"Your password recovery code",
            "Hello {{username}},\n\nYour password recovery code is:\n\n    {{code}}\n\n"
            "Enter it in your application within {{expiresInMinutes}} minutes to choose a new password. "
            "It works once.\n\nIf you did not ask to recover your password, you can ignore this message.\n"};
  if (name == "activation")
    return {"Activate your account",
            "Hello {{username}},\n\nOpen this link within {{expiresInHours}} hours to activate your account:\n\n"
            "    {{link}}\n\nThe link works once. If you did not sign up, you can ignore this message.\n"};
  // CommCare's mobile_worker_confirm_account mail: the link to the page that confirms the
  // account by choosing its password.
  if (name == "account_confirmation")
    return {"Confirm your account for {{environment}}",
            "Hello {{username}},\n\nAn account was created for you in {{environment}}. Open this link within "
            "{{expiresInHours}} hours to confirm it and choose your password:\n\n    {{link}}\n\n"
            "The link works once. If you did not expect this message, you can ignore it.\n"};
  // CommCare's web-user invitation (our own wording): the link to the page where the
  // invitee accepts it by choosing a password.
  if (name == "invitation")
    return {"You are invited to join {{environment}}",
            "Hello,\n\nYou have been invited to join the project space {{environment}} as {{role}}. Open this link "
            "within {{expiresInDays}} days to accept the invitation and choose your password:\n\n    {{link}}\n\n"
            "The link works once. If you did not expect this invitation, you can ignore this message.\n"};
  // Notices go to the address the account had before the change, and never name the new
  // address: whoever changed it may not be the account's owner.
  if (name == "password_changed")
    return {"Your password was changed",
            "Hello {{username}},\n\nThe password of your account was changed.\n\n"
            "If you did not change it, reset your password now and tell your administrator.\n"};
  if (name == "email_changed")
    return {"Your email address was changed",
            "Hello {{username}},\n\nThe email address of your account was changed. This notice goes to the "
            "previous address; the new one is not shown here.\n\nIf you did not make this change, tell your "
            "administrator now.\n"};
  return {};
}

std::string RenderTemplate(std::string_view text, const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto open = text.find("{{", i);
    if (open == std::string_view::npos) break;
    const auto close = text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out.append(text.substr(i, open - i));
    const std::string name(text.substr(open + 2, close - open - 2));
    if (auto it = vars.find(name); it != vars.end()) out += it->second;
    else out.append(text.substr(open, close + 2 - open));
    i = close + 2;
  }
  out.append(text.substr(i));
  return out;
}

core::Result<MailTemplate> LoadTemplate(RecordService& records, const std::string& environment_id,
                                        const std::string& name) {
  auto found = records.Find(environment_id, kNameClaim, name);
  if (!found) return std::unexpected(found.error());
  if (found->empty()) return DefaultTemplate(name);
  const auto& body = found->front().body;
  const auto* subject = body.if_contains("subject");
  const auto* text = body.if_contains("body");
  if (!subject || !subject->is_string() || !text || !text->is_string()) return DefaultTemplate(name);
  return MailTemplate{std::string(subject->as_string()), std::string(text->as_string())};
}

core::Status SaveTemplate(RecordService& records, const std::string& environment_id, const std::string& name,
                          const MailTemplate& t) {
  if (!IsKnownTemplate(name))
    return core::InvalidArgument(
        "name", "unknown template name: use forgot_username, password_reset, recovery_code, password_changed, email_changed, activation, account_confirmation or invitation");
  if (t.subject.empty() || t.subject.size() > 200 || t.subject.find_first_of("\r\n") != std::string::npos ||
      !core::IsValidUtf8(t.subject))
    return core::InvalidArgument("subject", "subject must be 1..200 bytes of UTF-8 on one line");
  if (t.body.empty() || t.body.size() > 16 * 1024 || !core::IsValidUtf8(t.body))
    return core::InvalidArgument("body", "body must be 1..16384 bytes of UTF-8");
  const boost::json::object body{{"name", name}, {"subject", t.subject}, {"body", t.body}};
  auto claims = [&](const Record&) { return std::vector<Claim>{{kNameClaim, name, true}}; };
  auto found = records.Find(environment_id, kNameClaim, name);
  if (!found) return std::unexpected(found.error());
  if (!found->empty()) {
    auto updated = records.Update(environment_id, kMailTemplateKind, found->front().id,
                                  [&](Record& r) -> core::Status {
                                    r.body = body;
                                    return {};
                                  },
                                  claims);
    if (!updated) return std::unexpected(updated.error());
    return {};
  }
  NewRecordRequest request;
  request.environment_id = environment_id;
  request.kind = kMailTemplateKind;
  request.body = body;
  request.claims = claims(Record{});
  auto created = records.Create(request);
  if (!created) return std::unexpected(created.error());
  return {};
}

}  // namespace roster::service

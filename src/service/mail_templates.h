// Per-environment mail templates: a subject and a plain-text body with {{name}}
// placeholders. An environment without its own template uses the built-in one. Stored
// as records (sealed like every profile value, since a template may be personalised).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "service/record_service.h"

namespace roster::service {

inline constexpr const char* kMailTemplateKind = "mail_template";

struct MailTemplate {
  std::string subject;
  std::string body;
};

// The template names Roster sends, with the placeholders each offers:
//   forgot_username: {{username}} {{environment}}
//   password_reset:  {{username}} {{token}} {{link}} {{environment}} {{expiresInMinutes}}
//   recovery_code:   {{username}} {{code}} {{environment}} {{expiresInMinutes}} (PingOne's
//                    sendRecoveryCode; {{token}} and {{link}} are the code too)
//   activation:      {{username}} {{token}} {{link}} {{environment}} {{expiresInHours}}
//   invitation:      {{email}} {{role}} {{link}} {{environment}} {{expiresInDays}} (CommCare's
//                    web-user invitation, service/invitations.h)
//   password_changed, email_changed (notices to the previous primary address):
//                    {{username}} {{environment}}
bool IsKnownTemplate(std::string_view name);
MailTemplate DefaultTemplate(std::string_view name);

// {{name}} replaced by vars[name]; an unknown placeholder is left as written.
std::string RenderTemplate(std::string_view text, const std::map<std::string, std::string>& vars);

// The environment's template `name`, or the built-in one.
core::Result<MailTemplate> LoadTemplate(RecordService& records, const std::string& environment_id,
                                        const std::string& name);
// kInvalidArgument (field "name", "subject" or "body") for an unknown name, a subject
// with a line break or over 200 bytes, a body over 16 KiB, or invalid UTF-8.
core::Status SaveTemplate(RecordService& records, const std::string& environment_id, const std::string& name,
                          const MailTemplate& mail_template);

}  // namespace roster::service

// The outbox's SMTP transport (libcurl). One connection per message: the outbox is
// low-volume, and a fresh connection cannot inherit a broken one's state.
#pragma once

#include <string>

#include "core/mail.h"

namespace roster::mail {

struct SmtpOptions {
  std::string url;       // smtp://host:port or smtps://host:port (userinfo = credentials)
  std::string from;      // envelope and header sender
  bool starttls = false; // require STARTTLS on smtp://
  long timeout_s = 30;
};

class SmtpTransport final : public core::MailTransport {
 public:
  explicit SmtpTransport(SmtpOptions options);
  core::Status Send(const core::Mail& mail) override;

  // The RFC 5322 message sent for `mail` (exposed for tests). kInvalidArgument when a
  // header value would break the message (CR or LF in an address or subject).
  static core::Result<std::string> Format(const core::Mail& mail, const std::string& from,
                                          std::int64_t now_s, const std::string& message_id);

 private:
  SmtpOptions options_;
};

}  // namespace roster::mail

// A mail message and the port that delivers it. The outbox (store) holds messages
// sealed; the sender (service/mail_sender.h) opens them and hands them to a transport
// (mail/smtp_transport.h in production).
#pragma once

#include <string>

#include "core/error.h"

namespace roster::core {

struct Mail {
  std::string to;
  std::string subject;
  std::string body;  // plain text
};

class MailTransport {
 public:
  virtual ~MailTransport() = default;
  // kUnavailable for a failure worth retrying (server down, 4xx reply), kInvalidArgument
  // for one that will never succeed (a 5xx reply to the recipient).
  virtual Status Send(const Mail& mail) = 0;
};

}  // namespace roster::core

#include "mail/smtp_transport.h"

#include <curl/curl.h>

#include <cstring>
#include <ctime>
#include <memory>
#include <random>

namespace roster::mail {
namespace {

using core::ErrorCode;

bool HasLineBreak(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

// A header value of non-ASCII text goes as an RFC 2047 encoded word (UTF-8, base64).
std::string EncodeHeader(const std::string& text) {
  bool ascii = true;
  for (unsigned char c : text) ascii = ascii && c < 0x80;
  if (ascii) return text;
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "=?UTF-8?B?";
  std::size_t i = 0;
  for (; i + 2 < text.size(); i += 3) {
    const unsigned v = (unsigned(static_cast<unsigned char>(text[i])) << 16) |
                       (unsigned(static_cast<unsigned char>(text[i + 1])) << 8) |
                       unsigned(static_cast<unsigned char>(text[i + 2]));
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(v >> k) & 63];
  }
  if (const std::size_t rest = text.size() - i; rest > 0) {
    unsigned v = unsigned(static_cast<unsigned char>(text[i])) << 16;
    if (rest == 2) v |= unsigned(static_cast<unsigned char>(text[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out + "?=";
}

struct Upload {
  const std::string* data;
  std::size_t offset = 0;
};

std::size_t ReadChunk(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* up = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, up->data->size() - up->offset);
  std::memcpy(buffer, up->data->data() + up->offset, n);
  up->offset += n;
  return n;
}

std::string RandomId() {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 24; ++i) id += kHex[rd() & 15];
  return id;
}

}  // namespace

SmtpTransport::SmtpTransport(SmtpOptions options) : options_(std::move(options)) {}

core::Result<std::string> SmtpTransport::Format(const core::Mail& mail, const std::string& from, std::int64_t now_s,
                                                const std::string& message_id) {
  if (HasLineBreak(mail.to) || HasLineBreak(mail.subject) || HasLineBreak(from))
    return core::InvalidArgument("mail", "a mail header may not contain a line break");
  char date[64];
  const std::time_t t = static_cast<std::time_t>(now_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  const auto at = from.find('@');
  const std::string domain = at == std::string::npos ? "localhost" : from.substr(at + 1);
  std::string out;
  out += "Date: " + std::string(date) + "\r\n";
  out += "From: " + from + "\r\n";
  out += "To: " + mail.to + "\r\n";
  out += "Subject: " + EncodeHeader(mail.subject) + "\r\n";
  out += "Message-ID: <" + message_id + "@" + domain + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Transfer-Encoding: 8bit\r\n\r\n";
  // Normalise line ends to CRLF; libcurl dot-stuffs lines that start with '.'.
  for (std::size_t i = 0; i < mail.body.size(); ++i) {
    const char c = mail.body[i];
    if (c == '\r') continue;
    if (c == '\n') out += "\r\n";
    else out += c;
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

core::Status SmtpTransport::Send(const core::Mail& mail) {
  auto message = Format(mail, options_.from, std::time(nullptr), RandomId());
  if (!message) return std::unexpected(message.error());
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return core::Fail(ErrorCode::kUnavailable, "cannot start an SMTP client");
  const std::string rcpt_value = "<" + mail.to + ">";
  const std::string from_value = "<" + options_.from + ">";
  curl_slist* rcpt = curl_slist_append(nullptr, rcpt_value.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rcpt_guard(rcpt, &curl_slist_free_all);
  Upload upload{&*message};
  char error[CURL_ERROR_SIZE] = {};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from_value.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, &ReadChunk);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, options_.timeout_s);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, std::min(options_.timeout_s, 10L));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  if (options_.starttls) curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) return {};
  long reply = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
  // The error text names the failing step (connect, RCPT, ...), never the message.
  const std::string what = std::string("SMTP delivery failed: ") + (error[0] ? error : curl_easy_strerror(rc));
  if (reply >= 500 && reply < 600 && rc == CURLE_SEND_ERROR) return core::InvalidArgument("mail", what);
  return core::Fail(ErrorCode::kUnavailable, what);
}

}  // namespace roster::mail

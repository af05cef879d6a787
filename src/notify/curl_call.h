// CurlCall: one HTTP POST or SMTP send through libcurl (loaded on first use), for notifiers.
// TLS is verified (optionally against a given CA bundle). Not thread-safe per call object.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace covid {

struct CurlCall {
  std::string url;
  std::vector<std::string> headers;     // "Name: value"
  std::string body;                     // POST body, or the whole SMTP message
  std::chrono::milliseconds timeout{15'000};
  std::string ca_file;
  // SMTP
  bool smtp = false;
  std::string mail_from;
  std::vector<std::string> mail_rcpt;
  bool require_tls = true;
  std::string username, password;       // SMTP AUTH, or the AWS key pair for SigV4
  std::string aws_sigv4;                // e.g. "aws:amz:us-east-1:sns"
};

struct CurlOutcome {
  Status status;          // ok when the exchange completed (whatever the HTTP status)
  bool transient = false; // when !status.ok()
  long code = 0;          // HTTP status or SMTP reply code
  std::string response;   // the start of the response body
};

CurlOutcome perform(const CurlCall& call);

}  // namespace covid

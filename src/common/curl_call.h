// CurlCall: one HTTP request (a POST unless `method` names another: the S3 publish destination's
// GET, PUT and DELETE) or SMTP send through libcurl (loaded on first use), for the notifiers, the
// DynamoDB store and the S3 destination. TLS is verified (optionally against a given CA bundle).
//
// perform(call) uses a new handle for the one call. A CurlSession keeps one handle, and with it
// libcurl's connection cache, across calls: a client that talks to the same server many times
// (DynamoDB) pays for the TCP and TLS handshakes once. With `aws_sigv4` set, libcurl signs the
// request with AWS Signature Version 4 using username/password as the key pair; the caller adds
// X-Amz-Security-Token to `headers` when there is a session token (curl signs every header it is
// given). Credentials are never logged. Not thread-safe per call object or session.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "common/status.h"

namespace covid {

struct CurlCall {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string method;                // HTTP: empty for POST, or "GET", "PUT", "DELETE"
  std::string body;                  // POST or PUT body, or the whole SMTP message
  std::chrono::milliseconds timeout{15'000};
  std::string ca_file;
  // SMTP
  bool smtp = false;
  std::string mail_from;
  std::vector<std::string> mail_rcpt;
  bool require_tls = true;
  std::string username, password;  // SMTP AUTH, or the AWS key pair for SigV4
  std::string aws_sigv4;           // e.g. "aws:amz:us-east-1:sns"
  size_t response_limit = 300;     // how much of the response body to keep
  bool keep_headers = false;       // HTTP: keep the response's header lines in the outcome
};

struct CurlOutcome {
  Status status;                     // ok when the exchange completed (whatever the HTTP status)
  bool transient = false;            // when !status.ok(): retriable (common/retry.h's list)
  long code = 0;                     // HTTP status or SMTP reply code
  std::string response;              // the response body, up to the call's response_limit
  std::vector<std::string> headers;  // with keep_headers: "Name: value" lines, CRLF removed
};

CurlOutcome perform(const CurlCall& call);

// One libcurl handle for many calls, one after another; connections are kept and reused.
class CurlSession {
 public:
  CurlSession() = default;
  ~CurlSession();
  CurlSession(const CurlSession&) = delete;
  CurlSession& operator=(const CurlSession&) = delete;

  CurlOutcome perform(const CurlCall& call);

 private:
  void* curl_ = nullptr;  // a CURL*
};

}  // namespace covid

// Channels: the [[notify]] entries of the configuration, checked, and the Notifier interface
// that delivers one outbox message over one channel.
//
// A channel names environment variables for its secrets (tokens, passwords, AWS keys); their
// values are read at delivery time and never stored, logged or put in an error message.
// Notifiers are used by one thread at a time.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/records.h"

namespace covid {

struct ChannelConfig {
  std::string name;  // unique; the outbox refers to it
  std::string type;  // log, webhook, email, sns
  // Events: success, unchanged, failure, stale (an unchanged run that says a source is stale).
  std::vector<std::string> on = {"success", "failure", "stale"};
  std::chrono::milliseconds timeout{15'000};
  std::string url;      // webhook: the endpoint; email: smtp:// or smtps://
  std::string ca_file;  // webhook, email: trust this CA bundle instead of the system's
  // webhook: extra headers; ${NAME} in a value is replaced by the environment variable NAME.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string from;                         // email
  std::vector<std::string> to;              // email
  std::string username_env, password_env;   // email: variables holding the SMTP credentials
  bool require_tls = true;                  // email: STARTTLS required unless tls = "none"
  std::string topic_arn, region, endpoint;  // sns
  bool json = false;  // log: one JSON object per line (the daemon's --log-format json)

  bool wants(const std::string& event) const;
};

struct Delivery {
  bool ok = false;
  bool retriable = false;  // worth trying again later (network, 5xx, throttling)
  std::string error;       // without secrets
};

class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual Delivery deliver(const OutboxMessage& message) = 0;
};

using Getenv = std::function<const char*(const char*)>;

// The notifier for a channel; getenv defaults to std::getenv.
std::unique_ptr<Notifier> make_notifier(const ChannelConfig& channel, Getenv getenv = {});

// Remembers the secrets `channel` uses (its URL's, the variables its headers name, its SMTP
// password, the AWS keys of SNS) for common/secrets.h's scrub(); make_notifier does it too.
void remember_channel_secrets(const ChannelConfig& channel, const Getenv& getenv = {});

// The URL without its path, query and credentials: webhook URLs often carry a secret token.
std::string url_origin(const std::string& url);

}  // namespace covid

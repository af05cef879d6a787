// Dispatcher: turns one run's message into outbox rows for the channels that want it, and
// delivers the outbox.
//
// Delivery is after the commit that wrote the rows: a message is leased (so two processes never
// send it at once), sent with retries and backoff within the call, then marked delivered at
// once, or left pending with its error for the next run or `notify --flush`, or marked failed
// when retrying cannot help or after max_attempts. A notifier that is down never fails a run.
// The retries within a call follow common/retry.h's RetryPolicy made from the options: at most
// `retries` more attempts, waiting `backoff`, then twice that, and so on (up to 1024 times
// `backoff`), without jitter. Not thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/outbox.h"
#include "common/records.h"
#include "common/retry.h"
#include "notify/channel.h"

namespace covid {

struct DispatchOptions {
  int retries = 2;  // attempts after the first, within one flush
  std::chrono::milliseconds backoff{1'000};
  int max_attempts = 50;  // over all flushes; then the message is marked failed
  std::chrono::seconds lease{600};
};

// The content of a notification, before it is addressed to channels.
struct Message {
  int64_t run_id = 0;
  std::string event;  // success, unchanged, failure, test
  std::string subject, body, payload;
};

struct FlushReport {
  int delivered = 0, pending = 0, failed = 0;
  std::vector<std::string> errors;  // "channel: error"
};

using NotifierFactory = std::function<std::unique_ptr<Notifier>(const ChannelConfig&)>;

class Dispatcher {
 public:
  // With no channels configured, a log channel for successes and failures.
  Dispatcher(std::vector<ChannelConfig> channels, const Clock& clock, DispatchOptions options,
             NotifierFactory factory = {});

  // One outbox row per channel that wants the message's event.
  std::vector<OutboxMessage> address(const Message& message) const;

  // Delivers every pending outbox message.
  FlushReport flush(Outbox& outbox);

  // Sends straight away, without the outbox (`notify --test`, or a failure that could not be
  // recorded); returns the outcome per channel that wants the event.
  std::vector<std::pair<std::string, Delivery>> send_now(const Message& message);

  const std::vector<ChannelConfig>& channels() const { return channels_; }

 private:
  // Delivers with retries (policy_); `attempts` is set to the number of attempts made.
  Delivery deliver(const ChannelConfig& channel, const OutboxMessage& message, int* attempts);
  const ChannelConfig* find(const std::string& name) const;

  std::vector<ChannelConfig> channels_;
  const Clock& clock_;
  DispatchOptions options_;
  RetryPolicy policy_;
  Jitter jitter_ = no_jitter();
  NotifierFactory factory_;
};

}  // namespace covid

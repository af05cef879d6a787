#include "notify/dispatcher.h"

#include "common/secrets.h"

namespace covid {

Dispatcher::Dispatcher(std::vector<ChannelConfig> channels, const Clock& clock,
                       DispatchOptions options, NotifierFactory factory)
    : channels_(std::move(channels)),
      clock_(clock),
      options_(options),
      factory_(std::move(factory)) {
  for (const ChannelConfig& c : channels_) remember_channel_secrets(c);
  if (channels_.empty()) {
    ChannelConfig log;
    log.name = "log";
    log.type = "log";
    channels_.push_back(log);
  }
  if (!factory_) factory_ = [](const ChannelConfig& c) { return make_notifier(c); };
  policy_.max_attempts = options_.retries + 1;
  policy_.base = options_.backoff;
  policy_.cap = options_.backoff * 1024;
}

const ChannelConfig* Dispatcher::find(const std::string& name) const {
  for (const ChannelConfig& c : channels_) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::vector<OutboxMessage> Dispatcher::address(const Message& m) const {
  std::vector<OutboxMessage> out;
  std::string now = format_timestamp(clock_.now());
  for (const ChannelConfig& c : channels_) {
    if (!c.wants(m.event)) continue;
    OutboxMessage o;
    o.run_id = m.run_id;
    o.channel = c.name;
    o.event = m.event;
    o.subject = m.subject;
    o.body = m.body;
    o.payload = m.payload;
    o.created_at = now;
    out.push_back(std::move(o));
  }
  return out;
}

Delivery Dispatcher::deliver(const ChannelConfig& channel, const OutboxMessage& message,
                             int* attempts) {
  std::unique_ptr<Notifier> notifier = factory_(channel);
  for (RetryLoop loop(policy_, clock_, jitter_);;) {
    *attempts = loop.attempt();
    Delivery d = notifier->deliver(message);
    if (d.ok || !loop.retry(d.retriable)) return d;
  }
}

FlushReport Dispatcher::flush(Outbox& store) {
  FlushReport report;
  auto lease_end = clock_.now() + options_.lease;
  auto claimed =
      store.claim_outbox(1000, format_timestamp(clock_.now()), format_timestamp(lease_end));
  if (!claimed.ok()) {
    report.errors.push_back("outbox: " + claimed.status().message());
    return report;
  }
  for (const OutboxMessage& m : *claimed) {
    DeliveryUpdate u;
    u.id = m.id;
    const ChannelConfig* channel = find(m.channel);
    Delivery d;
    if (channel == nullptr) {
      d.error = "no channel named '" + m.channel + "' in the configuration";
      d.retriable = true;  // it may come back; kept pending
    } else {
      d = deliver(*channel, m, &u.attempts_added);
    }
    d.error = scrub(d.error);  // stored with the message and printed
    u.at = format_timestamp(clock_.now());
    if (d.ok) {
      u.status = OutboxStatus::kDelivered;
      ++report.delivered;
    } else if (d.retriable && m.attempts + u.attempts_added < options_.max_attempts) {
      u.status = OutboxStatus::kPending;
      u.error = d.error;
      ++report.pending;
      report.errors.push_back(m.channel + ": " + d.error);
    } else {
      u.status = OutboxStatus::kFailed;
      u.error = d.error;
      ++report.failed;
      report.errors.push_back(m.channel + ": " + d.error);
    }
    Status s = store.record_delivery(u);
    if (!s.ok()) report.errors.push_back("outbox: " + s.message());
  }
  return report;
}

std::vector<std::pair<std::string, Delivery>> Dispatcher::send_now(const Message& message) {
  std::vector<std::pair<std::string, Delivery>> out;
  for (OutboxMessage& m : address(message)) {
    int attempts = 0;
    out.emplace_back(m.channel, deliver(*find(m.channel), m, &attempts));
  }
  return out;
}

}  // namespace covid

// The dispatcher and the outbox on a real SQLite file; notifiers are scripted fakes (the
// transports themselves are tested against real servers in tests/integration/test_notify.py).
#include "notify/dispatcher.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <deque>
#include <filesystem>

#include "load/store.h"

namespace covid {
namespace {

class TestClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return t; }
  void sleep_for(std::chrono::milliseconds d) const override { slept.push_back(d); }
  std::chrono::system_clock::time_point t = std::chrono::sys_days{std::chrono::year{2022} / 4 / 20};
  mutable std::vector<std::chrono::milliseconds> slept;
};

// Answers each delivery with the next scripted outcome (the last one repeats).
struct Script {
  std::deque<Delivery> outcomes;
  int calls = 0;
  Delivery next() {
    ++calls;
    Delivery d = outcomes.front();
    if (outcomes.size() > 1) outcomes.pop_front();
    return d;
  }
};

class ScriptedNotifier final : public Notifier {
 public:
  explicit ScriptedNotifier(Script& s) : s_(s) {}
  Delivery deliver(const OutboxMessage&) override { return s_.next(); }

 private:
  Script& s_;
};

const Delivery kOk{true, false, ""};
const Delivery kDown{false, true, "connection refused"};
const Delivery kRejected{false, false, "HTTP 400"};

ChannelConfig channel(std::string name, std::vector<std::string> on = {"success", "failure"}) {
  ChannelConfig c;
  c.name = std::move(name);
  c.type = "webhook";
  c.on = std::move(on);
  return c;
}

class DispatcherTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string t = (std::filesystem::temp_directory_path() / "dispatcher-XXXXXX").string();
    ASSERT_NE(mkdtemp(t.data()), nullptr);
    dir_ = t;
    auto s = open_store(dir_ + "/covid.db", StoreOptions{});
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Dispatcher make(std::vector<ChannelConfig> channels, DispatchOptions o = {}) {
    o.backoff = std::chrono::milliseconds(100);
    return Dispatcher(std::move(channels), clock_, o, [this](const ChannelConfig&) {
      return std::make_unique<ScriptedNotifier>(script_);
    });
  }

  // Records a run whose outbox holds the message addressed by `d`.
  void enqueue(Dispatcher& d, const std::string& event = "success") {
    auto id = store_->begin_run("2022-04-20T00:00:00.000Z");
    ASSERT_TRUE(id.ok());
    RunRecord r;
    r.id = *id;
    r.status = RunStatus::kOk;
    Message m{*id, event, "subject", "body", "{}"};
    ASSERT_TRUE(store_->finish_run(r, d.address(m)).ok());
  }

  std::vector<OutboxMessage> outbox() { return *store_->list_outbox(true, 100); }

  std::string dir_;
  std::unique_ptr<Store> store_;
  TestClock clock_;
  Script script_;
};

TEST_F(DispatcherTest, AddressesOnlyTheChannelsThatWantTheEvent) {
  Dispatcher d = make({channel("a"), channel("b", {"unchanged"}), channel("c", {"failure"})});
  auto rows = d.address(Message{7, "success", "s", "b", "{}"});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].channel, "a");
  EXPECT_EQ(rows[0].run_id, 7);
  EXPECT_EQ(d.address(Message{7, "unchanged", "s", "b", "{}"})[0].channel, "b");
  EXPECT_EQ(d.address(Message{7, "failure", "s", "b", "{}"}).size(), 2u);
}

TEST_F(DispatcherTest, WithoutChannelsALogChannelGetsSuccessesAndFailures) {
  Dispatcher d(std::vector<ChannelConfig>{}, clock_, DispatchOptions{});
  ASSERT_EQ(d.channels().size(), 1u);
  EXPECT_EQ(d.channels()[0].type, "log");
  EXPECT_EQ(d.address(Message{1, "success", "", "", ""}).size(), 1u);
  EXPECT_EQ(d.address(Message{1, "unchanged", "", "", ""}).size(), 0u);
}

TEST_F(DispatcherTest, RetriesWithBackoffThenDeliversOnce) {
  Dispatcher d = make({channel("a")});
  enqueue(d);
  script_.outcomes = {kDown, kDown, kOk};
  FlushReport r = d.flush(*store_);
  EXPECT_EQ((std::tuple{r.delivered, r.pending, r.failed}), (std::tuple{1, 0, 0}));
  EXPECT_EQ(script_.calls, 3);
  EXPECT_EQ(clock_.slept, (std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(100),
                                                                  std::chrono::milliseconds(200)}));
  auto rows = outbox();
  EXPECT_EQ(rows[0].status, OutboxStatus::kDelivered);
  EXPECT_EQ(rows[0].attempts, 3);
  // Delivered messages are never handed out again.
  EXPECT_EQ(d.flush(*store_).delivered, 0);
  EXPECT_EQ(script_.calls, 3);
}

TEST_F(DispatcherTest, AReceiverThatIsDownKeepsTheMessagePendingUntilMaxAttempts) {
  DispatchOptions o;
  o.retries = 1;
  o.max_attempts = 5;
  Dispatcher d = make({channel("a")}, o);
  enqueue(d);
  script_.outcomes = {kDown};
  EXPECT_EQ(d.flush(*store_).pending, 1);
  EXPECT_EQ(outbox()[0].attempts, 2);
  EXPECT_EQ(outbox()[0].last_error, "connection refused");
  EXPECT_EQ(d.flush(*store_).pending, 1);  // 4 attempts
  FlushReport last = d.flush(*store_);     // 6 >= 5: given up
  EXPECT_EQ(last.failed, 1);
  EXPECT_EQ(outbox()[0].status, OutboxStatus::kFailed);
  EXPECT_EQ(d.flush(*store_).failed, 0);  // failed messages are not retried
}

TEST_F(DispatcherTest, ARejectionIsNotRetried) {
  Dispatcher d = make({channel("a")});
  enqueue(d);
  script_.outcomes = {kRejected};
  EXPECT_EQ(d.flush(*store_).failed, 1);
  EXPECT_EQ(script_.calls, 1);
  EXPECT_EQ(outbox()[0].last_error, "HTTP 400");
}

TEST_F(DispatcherTest, AMessageForAChannelNoLongerConfiguredWaits) {
  Dispatcher first = make({channel("old")});
  enqueue(first);
  Dispatcher now = make({channel("new")});
  FlushReport r = now.flush(*store_);
  EXPECT_EQ(r.pending, 1);
  EXPECT_EQ(script_.calls, 0);
  EXPECT_NE(outbox()[0].last_error.find("no channel named 'old'"), std::string::npos);
}

TEST_F(DispatcherTest, ALeasedMessageIsNotHandedToASecondProcess) {
  Dispatcher d = make({channel("a")});
  enqueue(d);
  auto first = store_->claim_outbox(10, "2022-04-20T00:00:00.000Z", "2022-04-20T00:10:00.000Z");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->size(), 1u);
  auto second = store_->claim_outbox(10, "2022-04-20T00:05:00.000Z", "2022-04-20T00:15:00.000Z");
  EXPECT_EQ(second->size(), 0u);
  // A process that died while sending: its lease runs out and the message is sent again.
  auto later = store_->claim_outbox(10, "2022-04-20T00:11:00.000Z", "2022-04-20T00:21:00.000Z");
  EXPECT_EQ(later->size(), 1u);
}

TEST_F(DispatcherTest, SendNowBypassesTheOutbox) {
  Dispatcher d = make({channel("a"), channel("b", {"unchanged"})});
  script_.outcomes = {kOk};
  auto results = d.send_now(Message{0, "failure", "s", "b", "{}"});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].first, "a");
  EXPECT_TRUE(results[0].second.ok);
  EXPECT_TRUE(outbox().empty());
}

}  // namespace
}  // namespace covid

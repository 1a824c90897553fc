// WebhookSender (engine/server/webhooks.h) against a receiver in this
// process: alert changes are posted in order, a failing receiver is retried
// after a growing pause, and delivery resumes from the stored cursor.
#include "engine/server/webhooks.h"

#include <httplib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <thread>

#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

// An HTTP receiver on a free loopback port that keeps what it is sent on
// /hook, and answers 500 to the first `failures` requests.
class Receiver {
 public:
  explicit Receiver(int failures = 0) : failures_(failures) {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      ++requests_;
      if (failures_ > 0) {
        --failures_;
        res.status = 500;
        return;
      }
      seqs_.push_back(req.get_header_value("X-Hemoledger-Alert-Seq"));
      bodies_.push_back(req.body);
      res.status = 204;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    REQUIRE(eventually([this] { return server_.is_running(); }, 10));
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  int requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::vector<std::string> seqs() const {
    std::lock_guard lock(mu_);
    return seqs_;
  }
  std::vector<std::string> bodies() const {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  int failures_ = 0, requests_ = 0;
  std::vector<std::string> seqs_, bodies_;
};

std::unique_ptr<Store> open_store(const TempDir& dir) {
  auto s = Store::open(dir.path() + "/db");
  REQUIRE(s.ok());
  return std::move(*s);
}

std::string change(std::uint64_t seq) {
  return R"({"seq":)" + std::to_string(seq) + R"(,"action":"raised"})";
}

// Commits alert changes first..last, as the engine does.
void commit_changes(Store& store, std::uint64_t first, std::uint64_t last) {
  Store::Batch b;
  for (std::uint64_t seq = first; seq <= last; ++seq) b.put_alert_change(seq, change(seq));
  REQUIRE(store.commit(b).ok());
}

WebhookOptions options_for(const Receiver& r, int first_retry_ms = 500) {
  WebhookOptions o;
  o.urls = {r.url()};
  o.timeout_ms = 2000;
  o.first_retry_ms = first_retry_ms;
  o.max_retry_ms = 60000;
  return o;
}

}  // namespace

TEST_CASE("every alert change is posted to the receiver once, in order, with its sequence number",
          "[webhook]") {
  TempDir dir;
  auto store = open_store(dir);
  commit_changes(*store, 1, 3);
  Receiver receiver;
  WebhookSender sender(*store, options_for(receiver));

  CHECK(sender.pass() == 3);
  CHECK(receiver.seqs() == std::vector<std::string>{"1", "2", "3"});
  CHECK(receiver.bodies() == std::vector<std::string>{change(1), change(2), change(3)});
  CHECK(sender.pass() == 0);  // nothing new: nothing sent again
  CHECK(receiver.requests() == 3);
  const auto status = sender.status();
  REQUIRE(status.size() == 1);
  CHECK(status[0].next_seq == 4);
  CHECK(status[0].delivered == 3);
  CHECK(status[0].problem.empty());
}

TEST_CASE("a failing receiver is retried after a pause that doubles, and then gets what it missed",
          "[webhook]") {
  TempDir dir;
  auto store = open_store(dir);
  commit_changes(*store, 1, 2);
  Receiver receiver(/*failures=*/2);
  WebhookSender sender(*store, options_for(receiver, /*first_retry_ms=*/400));

  CHECK(sender.pass() == 0);
  CHECK(receiver.requests() == 1);
  auto status = sender.status();
  CHECK(status[0].failures == 1);
  CHECK(status[0].problem.find("answered HTTP 500") != std::string::npos);
  CHECK(sender.pass() == 0);  // within the pause: not asked again
  CHECK(receiver.requests() == 1);

  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  CHECK(sender.pass() == 0);  // fails again; the pause is now 800 ms
  CHECK(receiver.requests() == 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  CHECK(sender.pass() == 0);
  CHECK(receiver.requests() == 2);

  CHECK(eventually([&] { return sender.pass() == 2; }, 5));
  CHECK(receiver.seqs() == std::vector<std::string>{"1", "2"});
  status = sender.status();
  CHECK(status[0].problem.empty());
  CHECK(status[0].failures == 2);
  CHECK(status[0].next_seq == 3);
}

TEST_CASE("a restarted sender resumes after the last change the receiver got", "[webhook]") {
  TempDir dir;
  auto store = open_store(dir);
  commit_changes(*store, 1, 2);
  Receiver receiver;
  {
    WebhookSender sender(*store, options_for(receiver));
    CHECK(sender.pass() == 2);
  }
  commit_changes(*store, 3, 3);
  WebhookSender restarted(*store, options_for(receiver));
  CHECK(restarted.status()[0].next_seq == 3);
  CHECK(restarted.pass() == 1);
  CHECK(receiver.seqs() == std::vector<std::string>{"1", "2", "3"});
}

TEST_CASE("a webhook address that is not plain http is refused with a reason", "[webhook]") {
  CHECK(check_webhook_url("http://alerts.example:8080/hooks/hemoledger").ok());
  CHECK(check_webhook_url("http://10.0.0.7").ok());
  for (const char* bad :
       {"https://alerts.example/hook", "alerts.example/hook", "http://", "http://host name/x"}) {
    auto s = check_webhook_url(bad);
    INFO(bad);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == "bad_webhook");
    CHECK(s.error().message.find(bad) != std::string::npos);
  }
}

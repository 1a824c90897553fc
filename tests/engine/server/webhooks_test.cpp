// WebhookSender in process: a Store with alert changes, a receiver on
// loopback (cpp-httplib), and pass() called by the test instead of run()'s
// loop, so that each round is observed.
#include <catch2/catch.hpp>

#include <httplib.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/server/webhooks.h"
#include "engine/storage/store.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

// An HTTP receiver that records what is posted to /hook and answers with
// the status it is told to.
class Receiver {
 public:
  Receiver() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      received_.emplace_back(req.get_header_value("X-Hemoledger-Alert-Seq"), req.body);
      res.status = status_;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  void answer(int status) {
    std::lock_guard lock(mu_);
    status_ = status;
  }
  // (X-Hemoledger-Alert-Seq, body) of every POST so far, in arrival order.
  std::vector<std::pair<std::string, std::string>> received() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  int status_ = 200;
  std::vector<std::pair<std::string, std::string>> received_;
};

void add_changes(Store& store, std::uint64_t from, std::uint64_t to) {
  Store::Batch b;
  for (auto seq = from; seq <= to; ++seq) {
    b.put_alert_change(seq, R"({"seq":)" + std::to_string(seq) + "}");
  }
  REQUIRE(store.commit(b));
}

WebhookOptions to(const std::string& url) {
  WebhookOptions options;
  options.urls = {url};
  return options;
}

std::unique_ptr<Store> open_store(const TempDir& dir) {
  auto store = Store::open(dir.path() + "/db");
  REQUIRE(store);
  return std::move(*store);
}

}  // namespace

TEST_CASE("alert changes reach a webhook in sequence order, and a restart resumes after them",
          "[webhooks][server]") {
  TempDir dir;
  Receiver receiver;
  {
    auto store = open_store(dir);
    add_changes(*store, 1, 3);
    WebhookSender sender(*store, to(receiver.url()));
    CHECK(sender.pass() == 3);
    const auto got = receiver.received();
    REQUIRE(got.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(got[i].first == std::to_string(i + 1));
      CHECK(got[i].second == R"({"seq":)" + std::to_string(i + 1) + "}");
    }
    const auto st = sender.status();
    REQUIRE(st.size() == 1);
    CHECK(st[0].next_seq == 4);
    CHECK(st[0].delivered == 3);
    CHECK(st[0].problem.empty());
    CHECK(sender.pass() == 0);  // nothing new: nothing sent twice
  }
  // A new sender over the same store starts from the stored cursor.
  auto store = open_store(dir);
  add_changes(*store, 4, 4);
  WebhookSender sender(*store, to(receiver.url()));
  CHECK(sender.status()[0].next_seq == 4);
  CHECK(sender.pass() == 1);
  const auto got = receiver.received();
  REQUIRE(got.size() == 4);
  CHECK(got[3].first == "4");
}

TEST_CASE("a webhook that refuses is reported and retried until it accepts",
          "[webhooks][server]") {
  TempDir dir;
  Receiver receiver;
  auto store = open_store(dir);
  add_changes(*store, 1, 2);
  WebhookOptions options = to(receiver.url());
  options.first_retry_ms = 1;
  WebhookSender sender(*store, options);

  receiver.answer(500);
  CHECK(sender.pass() == 0);
  auto st = sender.status()[0];
  CHECK(st.next_seq == 1);  // the refused change is not skipped
  CHECK(st.failures == 1);
  CHECK(st.problem == receiver.url() + " answered HTTP 500");

  receiver.answer(204);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // past the 1 ms backoff
  CHECK(sender.pass() == 2);
  st = sender.status()[0];
  CHECK(st.next_seq == 3);
  CHECK(st.delivered == 2);
  CHECK(st.problem.empty());
  const auto got = receiver.received();
  REQUIRE(got.size() == 3);  // the refused POST of change 1, then 1 and 2
  CHECK(got[0].first == "1");
  CHECK(got[1].first == "1");
  CHECK(got[2].first == "2");
}

TEST_CASE("a webhook address other than plain http is refused with a code", "[webhooks]") {
  CHECK(check_webhook_url("http://alerts.example:8080/hemoledger"));
  CHECK(check_webhook_url("http://10.0.0.5"));
  for (const char* bad : {"https://alerts.example/hook", "alerts.example/hook", "http://",
                          "http://host/with space"}) {
    INFO(bad);
    const auto s = check_webhook_url(bad);
    REQUIRE_FALSE(s);
    CHECK(s.error().code == "bad_webhook");
  }
}

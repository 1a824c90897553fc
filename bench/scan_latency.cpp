#include "bench/scan_latency.h"

#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "bench/chunk_feeder.h"
#include "bench/latency.h"
#include "bench/process.h"
#include "events/time.h"

namespace hemoledger::bench {

namespace {

using json = nlohmann::json;
using Steady = std::chrono::steady_clock;

const std::string kTopic = "hemoledger.events";

double seconds_since(Steady::time_point t0) {
  return std::chrono::duration<double>(Steady::now() - t0).count();
}

// DonationCollected events with DINs of their own (facility code Z9999, which
// the recorded streams never use), dated a minute before the engine's clock.
class ScanMaker {
 public:
  std::string next() {
    const std::uint64_t n = ++seq_;
    char din[16];
    std::snprintf(din, sizeof din, "Z9999%02u%06u", static_cast<unsigned>(26 + n / 1000000 % 70),
                  static_cast<unsigned>(n % 1000000));
    return json{{"type", "DonationCollected"},
                {"at", at_},
                {"facility", "JEM-BB"},
                {"din", din},
                {"donor", "bench-donor-" + std::to_string(n)},
                {"abo_rh", "O+"}}
        .dump();
  }

 private:
  std::atomic<std::uint64_t> seq_{0};
  const std::string at_ = format_rfc3339(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch() - std::chrono::minutes(1))
          .count());
};

// Latencies in ms of `count` POSTs in a row on one keep-alive connection;
// answers other than 200 are counted in `failures`.
std::vector<double> post_in_a_row(int port, ScanMaker& scans, int count,
                                  std::atomic<int>& failures) {
  httplib::Client c("127.0.0.1", port);
  c.set_keep_alive(true);
  c.set_read_timeout(30);
  // As browsers and curl do: else the body, written after the header, waits
  // for the server's delayed ACK (~40 ms).
  c.set_tcp_nodelay(true);
  std::vector<double> ms;
  ms.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const std::string body = scans.next();
    const auto t0 = Steady::now();
    auto res = c.Post("/api/events", body, "application/json");
    ms.push_back(seconds_since(t0) * 1e3);
    if (!res || res->status != 200) ++failures;
  }
  return ms;
}

json summary(const std::vector<double>& ms, double wall_seconds, int failures) {
  json j = to_json(percentiles(ms));
  j["verdicts_per_second"] = static_cast<double>(ms.size()) / wall_seconds;
  j["failures"] = failures;
  return j;
}

json concurrent(int port, ScanMaker& scans, int clients, int each) {
  std::fprintf(stderr, "    %d clients at once, %d scans each\n", clients, each);
  std::mutex mu;
  std::vector<double> all;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  const auto t0 = Steady::now();
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&] {
      auto mine = post_in_a_row(port, scans, each, failures);
      std::lock_guard<std::mutex> lock(mu);
      all.insert(all.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  json j = summary(all, seconds_since(t0), failures.load());
  j["clients"] = clients;
  return j;
}

// Events the engine has settled (applied, rejected or duplicate), from /metrics.
double settled(httplib::Client& c) {
  auto r = c.Get("/metrics");
  if (!r) return 0;
  double total = 0;
  std::istringstream in(r->body);
  for (std::string line; std::getline(in, line);) {
    for (const char* name :
         {"hemoledger_events_applied_total ", "hemoledger_events_rejected_total ",
          "hemoledger_events_duplicate_total "}) {
      if (line.rfind(name, 0) == 0) total += std::stod(line.substr(std::string(name).size()));
    }
  }
  return total;
}

// Scans in a row while a feeder thread produces the stream at the set rate.
json under_load(const ScanLatencySettings& s, int port, const std::string& bootstrap,
                ScanMaker& scans) {
  std::fprintf(stderr, "    %d scans in a row while the stream is produced at %.0f events/s\n",
               s.load_requests, s.load_events_per_second);
  // Small chunks: the feeder paces itself between them.
  ChunkFeeder feeder(bootstrap, kTopic, s.partitions, 64 * 1024);
  std::atomic<bool> stop{false};
  FeedHooks hooks;
  hooks.pause = [] {};
  const auto feed_start = Steady::now();
  hooks.resume_and_drain = [&](std::uint64_t produced) {
    const double due = static_cast<double>(produced) / s.load_events_per_second;
    while (!stop && seconds_since(feed_start) < due) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  };
  hooks.keep_going = [&] { return !stop.load(); };
  std::thread feed([&] { feeder.run(s.stream, 0, hooks); });
  httplib::Client metrics("127.0.0.1", port);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the engine reaches the rate
  const double settled_before = settled(metrics);
  std::atomic<int> failures{0};
  const auto t0 = Steady::now();
  const auto ms = post_in_a_row(port, scans, s.load_requests, failures);
  const double wall = seconds_since(t0);
  const double ingest = (settled(metrics) - settled_before) / wall;
  stop = true;
  feed.join();
  json j = summary(ms, wall, failures.load());
  j["target_ingest_events_per_second"] = s.load_events_per_second;
  j["ingest_events_per_second"] = ingest;
  return j;
}

}  // namespace

json scan_latency(const ScanLatencySettings& s) {
  std::fprintf(stderr, "==> scan latency: POST /api/events until the durable verdict\n");
  std::filesystem::create_directories(s.dir);
  const int port = free_port();
  const std::string log = s.dir + "/scan-engine.log", boot = s.dir + "/bootstrap";
  std::filesystem::remove(boot);
  ChildProcess engine({s.hemoledger, "serve", "--data-dir", s.dir + "/scan-data", "--listen",
                       "127.0.0.1:" + std::to_string(port), "--partitions",
                       std::to_string(s.partitions), "--bootstrap-file", boot},
                      log);
  const auto up = Steady::now() + std::chrono::seconds(60);
  while (read_text(log).find("kafka: assigned") == std::string::npos || read_text(boot).empty()) {
    if (Steady::now() > up || !engine.running()) {
      throw std::runtime_error("the engine did not start; see " + log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::string bootstrap = read_text(boot);
  while (!bootstrap.empty() && std::isspace(static_cast<unsigned char>(bootstrap.back()))) {
    bootstrap.pop_back();
  }
  ScanMaker scans;
  std::atomic<int> warmup_failures{0};
  (void)post_in_a_row(port, scans, 20, warmup_failures);  // connections, leaders, caches

  json j;
  std::fprintf(stderr, "    %d scans in a row, idle\n", s.idle_requests);
  std::atomic<int> failures{0};
  const auto t0 = Steady::now();
  const auto idle = post_in_a_row(port, scans, s.idle_requests, failures);
  j["idle"] = summary(idle, seconds_since(t0), failures.load());
  j["concurrent_16"] = concurrent(port, scans, 16, 50);
  j["concurrent_64"] = concurrent(port, scans, 64, 50);
  j["under_load"] = under_load(s, port, bootstrap, scans);
  j["warmup_failures"] = warmup_failures.load();
  j["engine"] = "hemoledger serve on its embedded Kafka (as ./run.sh demo), WAL synced per batch";
  engine.signal(SIGTERM);
  engine.wait();
  std::filesystem::remove_all(s.dir + "/scan-data");
  return j;
}

}  // namespace hemoledger::bench

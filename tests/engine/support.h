// Helpers for engine tests that use real parts: the tests' clock, a temporary
// directory on disk, the hemoledger binary as a child process (and its `token
// new`), shell commands, a free loopback port, waiting for a condition, and
// event builders for a known stream.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/cli/reference_files.h"
#include "engine/io/clock.h"
#include "engine/kafka/kafka.h"
#include "events/binary_codec.h"
#include "events/event.h"
#include "projections/stock.h"

extern char** environ;

namespace hemoledger::testing {

// The tests' clock. A test that runs an engine dates its events from now()
// and gives the engine the same clock: args() for `hemoledger serve` and the
// tools (--clock-start), clock() for an engine in this process. So no test
// depends on the date it runs on.
//
// TestClock() reads the wall clock, or HEMOLEDGER_TEST_NOW (an RFC 3339
// instant) when it is set, to run the whole suite at another date, e.g. five
// years ahead (docs/reliability.md). TestClock(start) is for a test whose
// events carry literal dates: its engines start at `start`, whatever the
// date. Either way the clock then runs forward in real time.
class TestClock {
 public:
  TestClock() : clock_(from_environment()) {}
  explicit TestClock(TimeMs start) : clock_(Clock::starting_at(start)) {}
  explicit TestClock(std::string_view rfc3339) : TestClock(parse_or_throw(rfc3339)) {}

  TimeMs now() const { return clock_.now(); }
  const Clock& clock() const { return clock_; }
  // {"--clock-start", now}: appended to a child's command line.
  std::vector<std::string> args() const { return {"--clock-start", format_rfc3339(now())}; }
  // The same as one word for a shell command line.
  std::string arg() const { return " --clock-start " + format_rfc3339(now()); }

 private:
  static TimeMs parse_or_throw(std::string_view text) {
    auto t = parse_rfc3339(text);
    if (!t) throw std::runtime_error("bad test clock start: " + std::string(text));
    return *t;
  }
  static Clock from_environment() {
    const char* moved = std::getenv("HEMOLEDGER_TEST_NOW");
    if (moved == nullptr || *moved == '\0') return Clock::starting_at(Clock().now());
    return Clock::starting_at(parse_or_throw(moved));
  }
  Clock clock_;
};

// The suite's clock: now, or HEMOLEDGER_TEST_NOW.
inline const TestClock& test_clock() {
  static const TestClock c;
  return c;
}

// `args` with the test clock's --clock-start appended.
inline std::vector<std::string> with_clock(std::vector<std::string> args,
                                           const TestClock& clock = test_clock()) {
  for (auto& a : clock.args()) args.push_back(std::move(a));
  return args;
}

// The shipped reference data, loaded once the way the engine loads it.
inline const ReferenceData& shipped_engine_reference() {
  static const ReferenceData r = [] {
    auto l = load_reference_data(default_reference_dir());
    if (!l) throw std::runtime_error(l.error().message);
    return std::move(l).value();
  }();
  return r;
}

// A whole file as text ("" if it cannot be read), e.g. a child's log.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A shell command's standard output ("" when it cannot be started).
inline std::string run_command(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

struct Outcome {
  int exit_code = -1;
  std::string output;  // standard output and error together
};

// Runs the binary with `args` (a shell command line's words) and `env`
// assignments before it.
inline Outcome run_binary(const std::string& args, const std::string& env = "") {
  const std::string cmd = env + " " + HEMOLEDGER_BINARY + " " + args + " 2>&1";
  Outcome o;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) o.output.append(buf, n);
  const int status = pclose(p);
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

// `hemoledger token new` into `tokens_file`: the new token, the line it prints
// (the test fails unless it is one). An empty facility makes a token of no facility.
inline std::string new_token(const std::string& tokens_file, const std::string& name,
                             const std::string& role, const std::string& facility = "") {
  std::string cmd = std::string(HEMOLEDGER_BINARY) + " token new --name " + name + " --role " +
                    role + " --tokens " + tokens_file;
  if (!facility.empty()) cmd += " --facility " + facility;
  std::string t = run_command(cmd + " 2>/dev/null");
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  REQUIRE(t.rfind("hl_", 0) == 0);
  return t;
}

// Whether `f` comes true within `seconds`, asking every 100 ms.
inline bool eventually(const std::function<bool()>& f, double seconds = 15) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return f();
}

// librdkafka's mock cluster hosted by the test, with hemoledger's topics, and
// a producer to it: Kafka outlives every engine process the test starts.
struct TestKafka {
  std::unique_ptr<MockCluster> mock;
  std::unique_ptr<Producer> producer;
  KafkaConfig kafka;

  explicit TestKafka(int brokers = 1, int partitions = 6) {
    auto m = MockCluster::start(
        brokers,
        {"hemoledger.events", "hemoledger.rejected", "hemoledger.alerts", "hemoledger.partials"},
        partitions);
    if (!m) throw std::runtime_error("mock cluster: " + m.error().message);
    mock = std::move(*m);
    kafka.brokers = mock->bootstrap();
    kafka.embedded = true;
    auto p = Producer::create(kafka);
    if (!p) throw std::runtime_error("producer: " + p.error().message);
    producer = std::move(*p);
  }

  // Produces events [from, to) to the events topic (keyed by DIN, binary
  // encoding), then waits until Kafka has them all.
  void produce(const std::vector<Event>& events, std::size_t from = 0,
               std::size_t to = static_cast<std::size_t>(-1)) {
    for (std::size_t k = from; k < std::min(to, events.size()); ++k) {
      REQUIRE(producer->produce("hemoledger.events", events[k].din, encode_binary(events[k])));
    }
    REQUIRE(producer->flush(10000));
  }
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hemoledger-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// A child process; killed with SIGKILL if still running when destroyed.
class Child {
 public:
  Child(std::vector<std::string> args, std::vector<std::string> extra_env, const std::string& log) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_store;
    for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
    for (auto& e : extra_env) env_store.push_back(e);
    std::vector<char*> envp;
    for (auto& e : env_store) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Child() {
    if (running()) {
      kill(pid_, SIGKILL);
      wait();
    }
  }
  bool started() const { return pid_ > 0; }
  bool running() {
    if (pid_ <= 0 || exited_) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      status_ = status;
      return false;
    }
    return true;
  }
  void signal(int sig) {
    if (running()) kill(pid_, sig);
  }
  // Waits for exit; returns the raw wait status.
  int wait() {
    if (!exited_ && pid_ > 0) {
      waitpid(pid_, &status_, 0);
      exited_ = true;
    }
    return status_;
  }
  // Waits up to `seconds`; true if it exited.
  bool wait_for(double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
      if (!running()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return !running();
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
};

// Builds events of a known stream, with unique ids.
class EventMaker {
 public:
  explicit EventMaker(std::string prefix, TimeMs start) : prefix_(std::move(prefix)), t_(start) {}
  Event make(EventType type, const std::string& facility, const std::string& din,
             const std::string& product = "") {
    Event e;
    e.id = prefix_ + "-" + std::to_string(++n_);
    e.type = type;
    e.at = (t_ += kMinute);
    e.facility = facility;
    e.din = din;
    e.product = product;
    return e;
  }
  TimeMs now() const { return t_; }

 private:
  std::string prefix_;
  TimeMs t_;
  int n_ = 0;
};

inline std::string din_for(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "G1234%02d%06d", 26, i % 1000000);
  return buf;
}

// A stream whose outcome is known by construction, independently of the
// projector: donations across four blood banks and all eight groups; every
// tenth screens HIV-positive and is discarded; a third of the red cells are
// issued (half of those transfused); a quarter of the plasma is dispatched to
// RBH-BB (half of those received); every 25th donation carries an unsafe
// issue of a quarantined unit, which must be rejected.
struct KnownStream {
  std::vector<Event> events;
  std::map<StockKey, std::int64_t> expected;  // non-zero cells
  int accepted = 0;
  int rejected = 0;
};

// It ends a day before the test clock's now (at most 17 events a donation, a
// minute apart), so its demand lies within the alerts' window and nothing in
// it expires, on whatever date the suite runs.
inline KnownStream known_stream(int donations, const std::string& id_prefix,
                                const TestClock& clock = test_clock()) {
  static const char* kBanks[] = {"NBS-BB", "GZA-BB", "HBN-BB", "JEN-BB"};
  KnownStream s;
  EventMaker m(id_prefix, clock.now() - kDay - donations * 17 * kMinute);
  auto add = [&](Event e, bool ok = true) {
    s.events.push_back(std::move(e));
    (ok ? s.accepted : s.rejected)++;
  };
  const std::string rc = "E0382V00", pl = "E2555V00";
  for (int i = 0; i < donations; ++i) {
    const std::string bank = kBanks[i % 4];
    const AboRh group = kAllGroups[i % 8];
    const std::string din = din_for(i);
    const bool positive = i % 10 == 7;
    Event c = m.make(EventType::donation_collected, bank, din);
    c.donor = "D" + std::to_string(i);
    c.abo_rh = group;
    add(c);
    add(m.make(EventType::component_produced, bank, din, rc));
    add(m.make(EventType::component_produced, bank, din, pl));
    if (i % 25 == 0) add(m.make(EventType::unit_issued, bank, din, pl), false);
    auto result = [&](const char* test, std::string value) {
      Event t = m.make(EventType::test_resulted, "NBS-LAB", din);
      t.test = test;
      t.result = std::move(value);
      add(t);
    };
    result("abo", std::string(to_string(abo_of(group))));
    result("rhd", rhd_of(group) == RhD::positive ? "pos" : "neg");
    result("hiv", positive ? "positive" : "negative");
    if (positive) result("hiv", "positive");  // the repeat: repeatedly reactive
    result("hbv", "negative");
    result("hcv", "negative");
    result("syphilis", "negative");
    if (positive) {
      for (const auto& product : {rc, pl}) {
        Event d = m.make(EventType::unit_discarded, bank, din, product);
        d.reason = "tti_positive";
        add(d);
      }
      continue;
    }
    add(m.make(EventType::unit_released, bank, din, rc));
    add(m.make(EventType::unit_released, bank, din, pl));
    StockKey red{bank, Category::red_cells, group, UnitStatus::available};
    if (i % 3 == 0) {
      // Issued to the governorate's hospital, which holds it from then on.
      const std::string hospital = bank.substr(0, bank.find('-')) + "-HOS";
      Event is = m.make(EventType::unit_issued, bank, din, rc);
      is.patient_abo_rh = group;
      is.patient = "PAT-" + std::to_string(i);
      is.to = hospital;
      add(is);
      red = StockKey{hospital, Category::red_cells, group, UnitStatus::issued};
      if (i % 6 == 0) {
        add(m.make(EventType::unit_transfused, hospital, din, rc));
        red.status = UnitStatus::transfused;
      }
    }
    if (red.status != UnitStatus::transfused) ++s.expected[red];
    StockKey plasma{bank, Category::plasma, group, UnitStatus::available};
    if (i % 4 == 1) {
      Event t = m.make(EventType::transfer_dispatched, bank, din, pl);
      t.to = "RBH-BB";
      add(t);
      plasma.status = UnitStatus::in_transit;
      if (i % 8 == 1) {
        add(m.make(EventType::transfer_received, "RBH-BB", din, pl));
        plasma = StockKey{"RBH-BB", Category::plasma, group, UnitStatus::available};
      }
    }
    ++s.expected[plasma];
  }
  return s;
}

}  // namespace hemoledger::testing

// What an operator installs and watches (docs/operations.md): the
// configuration file, JSON logs, scheduled backups, the Prometheus rules and
// Grafana dashboard against a running engine's /metrics, and the Debian
// package unpacked and run. Real binary, embedded or test-hosted Kafka,
// Debian's promtool, dpkg-deb and systemd-analyze.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "events/json_codec.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

// The source tree (data/ is in it), and the build tree: the nearest
// directory above the binary that holds CPack's configuration.
const std::string kSource = std::filesystem::path(HEMOLEDGER_DATA_DIR).parent_path().string();

std::string build_tree() {
  for (auto d = std::filesystem::path(HEMOLEDGER_BINARY).parent_path(); !d.empty();
       d = d.parent_path()) {
    if (std::filesystem::exists(d / "CPackConfig.cmake")) return d.string();
    if (d == d.root_path()) break;
  }
  return "";
}
const std::string kRules = kSource + "/packaging/prometheus/hemoledger-rules.yml";
const std::string kDashboard = kSource + "/packaging/grafana/hemoledger-dashboard.json";

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::pair<int, std::string> run_tool(const std::vector<std::string>& args, const std::string& log) {
  std::remove(log.c_str());
  Child c(args, {}, log);
  const int status = c.wait();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(log)};
}

// The metric names of Prometheus expressions: every hemoledger_* word.
std::set<std::string> metrics_named(const std::string& text) {
  std::set<std::string> names;
  static const std::regex name(R"(hemoledger_[a-z_]+)");
  for (std::sregex_iterator it(text.begin(), text.end(), name), end; it != end; ++it) {
    names.insert(it->str());
  }
  return names;
}

// The series names of a /metrics page.
std::set<std::string> exported(const std::string& page) {
  std::set<std::string> names;
  std::istringstream in(page);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    names.insert(line.substr(0, line.find_first_of("{ ")));
  }
  return names;
}

std::string post_one_event(int port, const TestClock& clock) {
  Event e;
  e.id = "ops-" + std::to_string(clock.now());
  e.type = EventType::donation_collected;
  e.at = clock.now() - kHour;
  e.facility = "NBS-BB";
  e.din = din_for(4242);
  e.donor = "DNR-9001";
  e.abo_rh = AboRh::o_neg;
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(20);
  auto r = c.Post("/api/events", encode_json(e), "application/json");
  return r ? r->body : "";
}

}  // namespace

TEST_CASE("serve takes its options from the configuration file and the command line overrides them",
          "[cli][ops]") {
  TempDir dir;
  const int port = free_port();
  const std::string config = dir.path() + "/hemoledger.toml";
  write(config, "log-format = \"json\"\n[serve]\nlisten = \"127.0.0.1:" + std::to_string(port) +
                    "\"\ndata-dir = \"" + dir.path() + "/from-file\"\nbackup-dir = \"" +
                    dir.path() + "/backups\"\n");
  const std::string log = dir.path() + "/serve.log";
  Child engine(with_clock({HEMOLEDGER_BINARY, "--config", config, "serve", "--data-dir",
                           dir.path() + "/from-command-line"}),
               {}, log);
  REQUIRE(wait_for_api(port, 30));  // the port came from the file
  CHECK(std::filesystem::exists(dir.path() + "/from-command-line/db/CURRENT"));
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/from-file"));
  auto health = get_json(port, "/health");
  REQUIRE(health);
  CHECK((*health)["backups"]["dir"] == dir.path() + "/backups");
  engine.signal(SIGTERM);
  REQUIRE(engine.wait_for(30));
  // Every log line is one JSON object with time, level and message.
  std::istringstream lines(read_file(log));
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    INFO(line);
    REQUIRE(j.is_object());
    CHECK(j.contains("time"));
    CHECK(j.contains("level"));
    CHECK(j.contains("message"));
    ++n;
  }
  CHECK(n > 3);
}

TEST_CASE("a configuration file with a key that names no option is refused, naming the key",
          "[cli][ops]") {
  TempDir dir;
  const std::string config = dir.path() + "/hemoledger.toml";
  write(config, "[serve]\nlisten = \"127.0.0.1:1\"\nbackup-evry = \"6h\"\n");
  const auto [status, out] =
      run_tool({HEMOLEDGER_BINARY, "--config", config, "serve"}, dir.path() + "/out.log");
  CHECK(status == 2);
  CHECK_THAT(out, Catch::Contains("unknown key serve.backup-evry"));
  CHECK_THAT(out, Catch::Contains(config));
  write(config, "log-fromat = \"json\"\n");
  const auto [status2, out2] =
      run_tool({HEMOLEDGER_BINARY, "--config", config, "serve"}, dir.path() + "/out.log");
  CHECK(status2 == 2);
  CHECK_THAT(out2, Catch::Contains("unknown key log-fromat"));
}

TEST_CASE("scheduled backups are taken and only the newest are kept", "[cli][ops][backup]") {
  TempDir dir;
  const int port = free_port();
  const std::string backups = dir.path() + "/backups";
  Child engine(with_clock({HEMOLEDGER_BINARY, "serve", "--data-dir", dir.path() + "/data",
                           "--listen", "127.0.0.1:" + std::to_string(port), "--backup-dir", backups,
                           "--backup-every", "1s", "--backup-keep", "2"}),
               {}, dir.path() + "/serve.log");
  REQUIRE(wait_for_api(port, 30));
  std::optional<nlohmann::json> health;
  REQUIRE(eventually(
      [&] {
        health = get_json(port, "/health");
        return health && (*health)["backups"]["last_id"].get<int>() >= 3;
      },
      60));
  CHECK((*health)["backups"]["every_seconds"] == 1);
  engine.signal(SIGTERM);
  REQUIRE(engine.wait_for(30));
  const auto [status, out] = run_tool(
      {HEMOLEDGER_BINARY, "backup", "--verify", "--backup-dir", backups}, dir.path() + "/out.log");
  INFO(out);
  CHECK(status == 0);
  CHECK_THAT(out, Catch::Contains("2 backup(s)"));
}

TEST_CASE("the shipped Prometheus rules pass promtool", "[ops][monitoring]") {
  TempDir dir;
  const auto [status, out] =
      run_tool({"/usr/bin/promtool", "check", "rules", kRules}, dir.path() + "/promtool.log");
  INFO(out);
  CHECK(status == 0);
  CHECK_THAT(out, Catch::Contains("SUCCESS"));
}

TEST_CASE("every metric the Prometheus rules and the Grafana dashboard name is on /metrics",
          "[ops][monitoring]") {
  TempDir dir;
  const int port = free_port(), hook_port = free_port();
  // A webhook that nobody answers, so that the webhook series exist.
  Child engine(with_clock({HEMOLEDGER_BINARY, "serve", "--data-dir", dir.path() + "/data",
                           "--listen", "127.0.0.1:" + std::to_string(port), "--backup-dir",
                           dir.path() + "/backups", "--backup-every", "6h", "--webhook",
                           "http://127.0.0.1:" + std::to_string(hook_port) + "/alerts"}),
               {}, dir.path() + "/serve.log");
  REQUIRE(wait_for_api(port, 30));
  CHECK_THAT(post_one_event(port, test_clock()), Catch::Contains("applied"));
  std::set<std::string> have;
  REQUIRE(eventually([&] {
    have = exported(get_text(port, "/metrics"));
    return have.count("hemoledger_consumer_lag") > 0;
  }));
  std::set<std::string> named = metrics_named(read_file(kRules));
  const auto dashboard = nlohmann::json::parse(read_file(kDashboard));
  std::size_t exprs = 0;
  for (const auto& panel : dashboard["panels"]) {
    for (const auto& t : panel["targets"]) {
      for (const auto& m : metrics_named(t["expr"].get<std::string>())) named.insert(m);
      ++exprs;
    }
  }
  CHECK(exprs > 10);
  REQUIRE(named.size() > 15);
  for (const auto& m : named) {
    INFO(m);
    CHECK(have.count(m) > 0);
  }
  engine.signal(SIGTERM);
  REQUIRE(engine.wait_for(30));
}

TEST_CASE("the Debian package installs a binary that serves with its default configuration",
          "[ops][package]") {
  TempDir dir;
  const std::string out = dir.path() + "/out.log";
  const auto [cpack_status, cpack_out] =
      run_tool({"/usr/bin/cpack", "-G", "DEB", "-B", dir.path() + "/pkg", "--config",
                build_tree() + "/CPackConfig.cmake"},
               out);
  INFO(cpack_out);
  REQUIRE(cpack_status == 0);
  std::string deb;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() + "/pkg")) {
    if (e.path().extension() == ".deb") deb = e.path().string();
  }
  REQUIRE_FALSE(deb.empty());

  // Its dependencies are the libraries the binary links (dpkg-shlibdeps).
  const std::string depends = run_command("dpkg-deb -f " + deb + " Depends");
  INFO(depends);
  for (const char* lib :
       {"librocksdb", "librdkafka", "libssl3", "libjemalloc", "libc6", "zlib1g"}) {
    CHECK_THAT(depends, Catch::Contains(lib));
  }
  const std::string listing = run_command("dpkg-deb -c " + deb);
  for (const char* file :
       {"./usr/bin/hemoledger", "./etc/hemoledger/hemoledger.toml",
        "./usr/lib/systemd/system/hemoledger.service", "./usr/lib/sysusers.d/hemoledger.conf",
        "./usr/share/hemoledger/data/facilities.csv",
        "./usr/share/hemoledger/data/lab_mapping.json",
        "./usr/share/hemoledger/prometheus/hemoledger-rules.yml",
        "./usr/share/hemoledger/grafana/hemoledger-dashboard.json",
        "./usr/share/doc/hemoledger/operations.md"}) {
    INFO(file);
    CHECK_THAT(listing, Catch::Contains(file));
  }
  const std::string control = dir.path() + "/control";
  run_command("dpkg-deb -e " + deb + " " + control);
  CHECK_THAT(read_file(control + "/conffiles"), Catch::Contains("/etc/hemoledger/hemoledger.toml"));
  CHECK(std::filesystem::exists(control + "/postinst"));

  // Unpacked into a temporary root, the binary serves with the installed
  // configuration (only where it keeps data is moved into the test's directory).
  const std::string root = dir.path() + "/root";
  REQUIRE(run_command("dpkg-deb -x " + deb + " " + root + " && echo unpacked") == "unpacked\n");
  const int port = free_port();
  const std::string log = dir.path() + "/serve.log";
  Child engine(with_clock({root + "/usr/bin/hemoledger", "--config",
                           root + "/etc/hemoledger/hemoledger.toml", "serve", "--data-dir",
                           dir.path() + "/data", "--backup-dir", dir.path() + "/backups",
                           "--listen", "127.0.0.1:" + std::to_string(port)}),
               {}, log);
  REQUIRE(wait_for_api(port, 30));
  int status = 0;
  auto health = get_json(port, "/health", &status);
  REQUIRE(health);
  CHECK(status == 200);
  CHECK((*health)["kafka"]["embedded"] == true);
  CHECK((*health)["backups"]["every_seconds"] == 6 * 3600);
  CHECK_THAT(post_one_event(port, test_clock()), Catch::Contains("applied"));
  // The default configuration takes a first backup at once, and logs JSON.
  REQUIRE(eventually(
      [&] {
        auto h = get_json(port, "/health");
        return h && (*h)["backups"]["last_id"] == 1;
      },
      30));
  engine.signal(SIGTERM);
  REQUIRE(engine.wait_for(30));
  std::istringstream first(read_file(log));
  std::string line;
  std::getline(first, line);
  CHECK(nlohmann::json::parse(line, nullptr, false).is_object());
  CHECK_THAT(read_file(log), Catch::Contains("backups into " + dir.path() + "/backups every 6h"));

  // systemd accepts the unit, with the host's targets and the unpacked binary.
  const std::string units = root + "/lib/systemd/system";
  std::filesystem::create_directories(units);
  for (const auto& e : std::filesystem::directory_iterator("/lib/systemd/system")) {
    const auto ext = e.path().extension();
    if (e.is_regular_file() && (ext == ".target" || ext == ".slice")) {
      std::filesystem::copy_file(e.path(), units + "/" + e.path().filename().string(),
                                 std::filesystem::copy_options::skip_existing);
    }
  }
  const auto [verify_status, verify_out] =
      run_tool({"/usr/bin/systemd-analyze", "verify", "--root=" + root,
                root + "/usr/lib/systemd/system/hemoledger.service"},
               dir.path() + "/verify.log");
  INFO(verify_out);
  CHECK(verify_status == 0);
  CHECK(verify_out.find("hemoledger") == std::string::npos);  // no warning about the unit
  const std::string unit = read_file(root + "/usr/lib/systemd/system/hemoledger.service");
  for (const char* setting :
       {"User=hemoledger", "StateDirectory=hemoledger", "ProtectSystem=strict",
        "NoNewPrivileges=yes", "Restart=on-failure"}) {
    CHECK_THAT(unit, Catch::Contains(setting));
  }
}

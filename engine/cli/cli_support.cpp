#include "engine/cli/cli_support.h"

#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "engine/cli/reference_files.h"
#include "engine/storage/store.h"

namespace hemoledger {
namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

// A RocksDB secondary instance's own files, removed when the reader is done.
struct ScratchDir {
  std::string path =
      (std::filesystem::temp_directory_path() / ("hemoledger-read-" + std::to_string(getpid())))
          .string();
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

int fail(const Error& e) {
  std::cerr << "hemoledger: " << e.message << " [" << e.code << "]\n";
  return 2;
}

void install_signal_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

const std::atomic<bool>& stop_requested() { return g_stop; }

void wait_for_stop_signal() {
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

void print_json(const nlohmann::json& j) { std::printf("%s\n", j.dump(2).c_str()); }

void print_report(const std::vector<std::string>& lines, const nlohmann::json& j) {
  for (const auto& line : lines) std::printf("%s\n", line.c_str());
  print_json(j);
}

int with_data_dir(const std::string& reference_dir, const std::string& data_dir,
                  const std::function<int(const ReferenceData&, const Store&)>& view) {
  auto ref = load_reference_data(reference_dir);
  if (!ref) return fail(ref.error());
  const ScratchDir scratch;
  if (!std::filesystem::exists(data_dir + "/db/CURRENT")) {
    return fail(make_error("no_data", "No hemoledger data in " + data_dir + " (use --data-dir)."));
  }
  auto store = Store::open_secondary(data_dir + "/db", scratch.path);
  if (!store) return fail(store.error());
  return view(*ref, **store);
}

std::string api_token(const std::string& given) {
  if (!given.empty()) return given;
  const char* t = std::getenv("HEMOLEDGER_TOKEN");
  return t ? t : "";
}

std::unique_ptr<httplib::Client> api_client(const std::string& url, const std::string& token,
                                            const std::string& ca_cert) {
  auto http = std::make_unique<httplib::Client>(url);
  if (const std::string t = api_token(token); !t.empty()) http->set_bearer_token_auth(t.c_str());
  if (!ca_cert.empty()) http->set_ca_cert_path(ca_cert.c_str());
  return http;
}

}  // namespace hemoledger

// `hemoledger webhook-echo`: receives alert webhooks over HTTP and prints one
// line per alert change, to try `serve --webhook` out. Runs until SIGINT or
// SIGTERM; every request is answered 204.
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "engine/cli/cli_support.h"
#include "engine/cli/command.h"
#include "engine/io/tcp_server.h"

namespace hemoledger {
namespace {

using nlohmann::json;

void print_alert_change(const httplib::Request& req, httplib::Response& res) {
  const json j = json::parse(req.body, nullptr, false);
  if (j.is_object() && j.contains("alert") && j["alert"].is_object()) {
    std::printf("#%s %-9s %-5s %s\n", req.get_header_value("X-Hemoledger-Alert-Seq").c_str(),
                j.value("action", "").c_str(), j["alert"].value("severity", "").c_str(),
                j["alert"].value("message", "").c_str());
  } else {
    std::printf("(not an alert change) %s\n", req.body.substr(0, 200).c_str());
  }
  std::fflush(stdout);
  res.status = 204;
}

int run_echo(const std::string& listen) {
  std::string host;
  int port = 0;
  if (!split_tcp_address(listen, host, port)) {
    return fail(make_error("bad_listen", "--listen must be HOST:PORT, e.g. 127.0.0.1:9090."));
  }
  install_signal_handlers();
  httplib::Server svr;
  svr.Post(".*", print_alert_change);
  if (!svr.bind_to_port(host.c_str(), port)) {
    return fail(make_error("listen_failed", "Cannot listen on " + listen + "."));
  }
  std::printf("receiving alert webhooks at http://%s/ (Ctrl-C to stop)\n", listen.c_str());
  std::fflush(stdout);
  std::thread stopper([&] {
    wait_for_stop_signal();
    svr.stop();
  });
  svr.listen_after_bind();
  stopper.join();
  return 0;
}

}  // namespace

Subcommand add_echo_command(CLI::App& app) {
  auto listen = std::make_shared<std::string>("127.0.0.1:9090");
  auto* cmd = app.add_subcommand(
      "webhook-echo", "Receive alert webhooks and print each change, to try --webhook out");
  cmd->add_option("--listen", *listen, "HOST:PORT to receive on")->capture_default_str();
  return {cmd, [listen](const CommandContext&) { return run_echo(*listen); }};
}

}  // namespace hemoledger

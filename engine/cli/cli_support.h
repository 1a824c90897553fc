// What the subcommands of `hemoledger` share: how an error is reported and
// its exit code, HOST:PORT splitting, Ctrl-C and SIGTERM, printing JSON, and
// opening the data directory of a possibly running engine for reading, and
// a client of a running engine's HTTP API.
//
// Threading: the signal handlers only set a flag; stop_requested() may be
// read from any thread. Everything else runs on the main thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "events/reference_data.h"
#include "events/result.h"

namespace httplib {
class Client;
}  // namespace httplib

namespace hemoledger {

class Store;

// The API token of a command: `given` (its --token), or HEMOLEDGER_TOKEN.
std::string api_token(const std::string& given);
// A client of the running engine at `url`: the token (api_token(token)) as
// its bearer, `ca_cert` (when given) to check the engine's certificate.
std::unique_ptr<httplib::Client> api_client(const std::string& url, const std::string& token,
                                            const std::string& ca_cert);

// How spdlog writes: "text" (its default pattern) or "json", one object a
// line: {"time":"2026-11-20T12:00:00.000Z","level":"info","message":"..."}
// (UTC, the message escaped). Error "bad_log_format" for anything else.
[[nodiscard]] Status use_log_format(const std::string& format);

// Prints "hemoledger: MESSAGE [CODE]" to standard error; returns exit code 2.
int fail(const Error& e);

// SIGINT and SIGTERM set the flag that stop_requested() reads.
void install_signal_handlers();
[[nodiscard]] const std::atomic<bool>& stop_requested();
// Sleeps until SIGINT or SIGTERM.
void wait_for_stop_signal();

// Prints `j` indented by two, and a newline, to standard output.
void print_json(const nlohmann::json& j);
// What a command did: one line per thing done, for a person ("partition 3:
// offset 5100, ..."), then the same as JSON for a script (print_json), all on
// standard output. The shape of every command that writes something
// (export, backup, snapshot).
void print_report(const std::vector<std::string>& lines, const nlohmann::json& j);

// Loads the reference data of `reference_dir`, opens `data_dir` (the
// directory `serve --data-dir` writes) as a RocksDB secondary, which a
// running engine allows, and runs `view` with both. Returns view's exit code,
// or fail()'s: the reference data's error, "no_data" when the directory holds
// no hemoledger data, or the store's. The secondary's own files live in a
// scratch directory removed before this returns.
int with_data_dir(const std::string& reference_dir, const std::string& data_dir,
                  const std::function<int(const ReferenceData&, const Store&)>& view);

}  // namespace hemoledger

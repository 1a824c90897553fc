#include "engine/cli/station.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "engine/station/station_session.h"

namespace hemoledger {

using nlohmann::json;

namespace {

// The engine's HTTP API as the session's backend.
class HttpBackend final : public StationBackend {
 public:
  explicit HttpBackend(const StationConfig& c) : api_(c.api), http_(c.api) {
    http_.set_connection_timeout(3);
    http_.set_read_timeout(30);
    if (!c.token.empty()) http_.set_bearer_token_auth(c.token.c_str());
    if (!c.ca_cert.empty()) http_.set_ca_cert_path(c.ca_cert.c_str());
  }
  BackendReply unit(const std::string& din, const std::string& product) override {
    const std::string path = "/api/units/" + din + (product.empty() ? "" : "/" + product);
    return reply(http_.Get(path.c_str()));
  }
  BackendReply check(const std::string& event_json) override {
    return reply(http_.Post("/api/events?dry_run=1", event_json, "application/json"));
  }
  BackendReply record(const std::string& event_json) override {
    return reply(http_.Post("/api/events", event_json, "application/json"));
  }
  std::string where() const override { return api_; }

 private:
  // An unreachable engine, or a body that is not JSON (not the engine), is status 0.
  static BackendReply reply(const httplib::Result& r) {
    if (!r) return {};
    json body = json::parse(r->body, nullptr, false);
    if (body.is_discarded()) return {};
    return {r->status, std::move(body)};
  }
  std::string api_;
  httplib::Client http_;
};

StationSettings settings_of(const StationConfig& c) {
  StationSettings s;
  s.facility = c.facility;
  s.action = c.action;
  s.patient_group = c.patient;
  s.patient = c.patient_id;
  s.to = c.to;
  s.reason = c.reason;
  s.approver = c.approver;
  s.reaction = c.reaction;
  s.severity = c.severity;
  s.imputability = c.imputability;
  s.onset_at = c.onset_at;
  s.actor = c.actor;
  s.station = c.station;
  return s;
}

void print(const StationConfig& c, const StationAnswer& a, std::ostream& out) {
  const std::string code = a.code.empty() ? "" : " [" + a.code + "]";
  switch (a.kind) {
    case AnswerKind::incomplete:
      return;
    case AnswerKind::cleared:
      out << "     " << a.message << "\n";
      break;
    case AnswerKind::ok:
      if (c.terminal)
        out << "\033[1;97;42m  OK  \033[0m " << a.message << "\n";
      else
        out << "OK   " << a.message << "\n";
      for (const auto& w : a.warnings) out << "     WARNING " << w << "\n";
      break;
    case AnswerKind::stop:
      if (c.terminal)
        out << "\a\033[1;97;41m STOP \033[0m \033[1;31m" << a.message << code << "\033[0m\n";
      else
        out << "STOP " << a.message << code << "\n";
      break;
    case AnswerKind::unconfirmed:
      if (c.terminal)
        out << "\a\033[1;30;43m WAIT \033[0m " << a.message << code << "\n";
      else
        out << "UNCONFIRMED " << a.message << code << "\n";
      break;
  }
  out.flush();
}

}  // namespace

Status validate(const StationConfig& c) { return validate(settings_of(c)); }

int run_station(const StationConfig& config, std::istream& in, std::ostream& out) {
  HttpBackend backend(config);
  StationSession session(settings_of(config), backend, config.clock);
  int failures = 0;
  std::string line;
  while (std::getline(in, line)) {
    const StationAnswer a = session.scan(line);
    if (a.kind == AnswerKind::stop || a.kind == AnswerKind::unconfirmed) ++failures;
    print(config, a, out);
  }
  return failures;
}

}  // namespace hemoledger

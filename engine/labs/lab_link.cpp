#include "engine/labs/lab_link.h"

#include <spdlog/spdlog.h>

namespace hemoledger {

Result<LabSender> authorize_lab_link(const TcpPeer& peer, const LabLinkSecurity& sec,
                                     const std::string& bound_lab, const std::string& channel) {
  if (!sec.tokens) return LabSender{"", bound_lab};
  if (!peer.tls || peer.common_name.empty()) {
    return make_error("no_certificate",
                      "This lab link needs a client certificate whose CN names a lab token "
                      "(docs/security.md).");
  }
  const auto who = sec.tokens->principal_named(peer.common_name);
  if (!who) {
    return make_error("unknown_certificate", "The client certificate's CN " + peer.common_name +
                                                 " names no entry of the token file.");
  }
  auto lab = lab_link_facility(*who, bound_lab);
  if (!lab) return lab.error();
  spdlog::info("{}: {} connected as {} (lab {})", channel, peer.address, who->name,
               lab->empty() ? "any" : *lab);
  return LabSender{who->name, *lab};
}

namespace {

// TLS and the refusal record (`channel` names the link in the record).
void apply_lab_link_security(TcpServerOptions& options, const LabLinkSecurity& sec,
                             const std::string& channel) {
  options.tls = sec.tls;
  if (!sec.refusals) return;
  RefusalLog* log = sec.refusals;
  options.on_refused = [log, channel](const TcpPeer& peer, const Error& why) {
    Refusal r;
    r.who = peer.common_name;
    r.remote = peer.address;
    r.channel = channel;
    r.method = "connect";
    r.status = why.code == kWrongRole || why.code == kWrongLab ? 403 : 401;
    r.code = why.code;
    r.reason = why.message;
    (void)log->record(std::move(r));  // a failure is logged by record()
  };
}

}  // namespace

Result<std::unique_ptr<TcpServer>> start_lab_link(const std::string& host, int port,
                                                  TcpServerOptions options,
                                                  const LabLinkSecurity& sec,
                                                  const std::string& bound_lab,
                                                  LabSessionFactory make_session) {
  const std::string channel = options.name;
  apply_lab_link_security(options, sec, channel);
  return TcpServer::start(host, port, std::move(options),
                          [sec, bound_lab, channel, make_session = std::move(make_session)](
                              const TcpPeer& peer) -> Result<std::unique_ptr<TcpSession>> {
                            auto sender = authorize_lab_link(peer, sec, bound_lab, channel);
                            if (!sender) return sender.error();
                            return make_session(std::move(*sender));
                          });
}

}  // namespace hemoledger

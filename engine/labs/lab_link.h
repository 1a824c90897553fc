// LabLinkSecurity: how the lab links (MLLP and ASTM over TCP) are secured
// (docs/security.md), the one decision of who may speak on a connection, and
// start_lab_link(), which starts either link's TcpServer with both applied.
//
//   without tokens  plain TCP, or TLS when a certificate is given; the link
//                   speaks for its --mllp-lab / --astm-lab (or any lab).
//                   For loopback and development.
//   with tokens     mutual TLS: the client must present a certificate that
//                   chains to --lab-client-ca, and its subject CN must name
//                   an entry of the token file of role lab (the link then
//                   speaks for that lab only) or admin (the bound lab, or
//                   any). The principal's name is the events' actor.
//
//   LabLinkSecurity sec{tls, &tokens, &refusals};
//   auto sender = authorize_lab_link(peer, sec, "NBS-LAB", "mllp");
//   if (!sender) refuse(sender.error());   // no_certificate, unknown_certificate,
//                                          // wrong_role, wrong_lab
//
// Threading: a LabLinkSecurity is read-only after start; what it points to
// must outlive the listeners.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/io/tcp_server.h"
#include "engine/io/tls_server.h"
#include "engine/labs/lab_messages.h"
#include "engine/security/refusal_log.h"
#include "engine/security/token_file.h"

namespace hemoledger {

struct LabLinkSecurity {
  std::shared_ptr<const TlsServerContext> tls;  // null: plain TCP
  // Non-null: every connection needs a client certificate naming a lab or
  // admin entry (tls must then require client certificates).
  const TokenFile* tokens = nullptr;
  RefusalLog* refusals = nullptr;  // refused connections are stored here too; may be null
};

// Who a connection speaks for: the LabSender its messages are delivered
// with (logged under `channel` when a certificate named it), or why it is
// refused.
[[nodiscard]] Result<LabSender> authorize_lab_link(const TcpPeer& peer, const LabLinkSecurity& sec,
                                                   const std::string& bound_lab,
                                                   const std::string& channel);

// What serves a connection once authorize_lab_link() has said whom it speaks
// for. Called on the connection's thread.
using LabSessionFactory = std::function<std::unique_ptr<TcpSession>(LabSender sender)>;

// Starts a lab link (the MLLP and ASTM listeners' common part): a TcpServer
// on host:port with `options` (options.name is the channel: "mllp", "astm")
// and `sec` applied: TLS when sec.tls is set, and each refused connection
// stored in sec.refusals. Each connection is authorized for `bound_lab` by
// authorize_lab_link() and refused (closed, logged, recorded) or served by
// `make_session`. Errors: those of TcpServer::start (bad_address,
// listen_failed).
[[nodiscard]] Result<std::unique_ptr<TcpServer>> start_lab_link(const std::string& host, int port,
                                                                TcpServerOptions options,
                                                                const LabLinkSecurity& sec,
                                                                const std::string& bound_lab,
                                                                LabSessionFactory make_session);

}  // namespace hemoledger

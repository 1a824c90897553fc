// AstmListener: ASTM E1394 over the LIS1-A (E1381) link layer on TCP, as
// analyzers and terminal servers speak it. Each connection has its own
// astm::Lis1aReceiver: ENQ is answered ACK, each frame ACK or NAK (bad
// checksum, wrong frame number), and at EOT the completed message goes
// through deliver_astm (engine/labs/lab_messages.h). LIS1-A has no application
// acknowledgement: a message the engine could not record is logged and
// stored with its outcome under m/ (docs/storage.md), where the lab's
// outcome can be read; the analyzer's link-level ACKs only say the frames
// arrived intact. The receiver timer (LIS1-A: 30 s without a byte inside a
// transfer) resets the link to idle, dropping the partial transfer.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/io/clock.h"
#include "engine/io/tcp_server.h"
#include "engine/labs/lab_gateway.h"
#include "engine/labs/lab_link.h"

namespace hemoledger {

struct AstmOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::size_t max_connections = 16;
  int receiver_timeout_ms = 30000;  // LIS1-A receiver timer
  // The lab this link speaks for (`serve --astm-lab`): a message with a
  // result of any other facility is refused whole (wrong_lab). "" = any.
  // Each event's actor is "astm:<H-5 sender name>".
  std::string lab;
  // TLS, and with a token file mutual TLS: the client certificate names the
  // principal, whose lab this connection speaks for (engine/labs/lab_link.h).
  LabLinkSecurity security;
};

class AstmListener {
 public:
  [[nodiscard]] static Result<std::unique_ptr<AstmListener>> start(LabGateway& gateway,
                                                                   const AstmOptions& options,
                                                                   Clock clock);
  int port() const { return server_->port(); }

 private:
  AstmListener() = default;
  std::unique_ptr<TcpServer> server_;
};

}  // namespace hemoledger

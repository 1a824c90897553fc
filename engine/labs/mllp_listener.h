// MllpListener: HL7 v2 over MLLP on TCP. Each connection gets its own thread
// (at most MllpOptions::max_connections) and its own hl7::MllpDecoder; each
// complete message goes through deliver_hl7 (engine/labs/lab_messages.h: mapping,
// LabGateway, storage) and its ACK is sent back framed, on the same
// connection, before the next message is read. Messages on one connection are
// therefore answered in order.
//
//   auto mllp = MllpListener::start(gateway, {"127.0.0.1", 2575}, clock);
//   if (!mllp) return fail(mllp.error());
//   ...                                  // ~MllpListener stops and joins
//
// Bad input never stops the listener: a frame over max_frame_bytes, a frame
// that does not end 0x1C 0x0D or a start byte inside a frame is answered AR
// (MSA-2 empty: nothing could be read); text that is not HL7 is answered AR
// by the mapping; more than max_garbage_bytes outside any frame closes the
// connection.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/io/clock.h"
#include "engine/io/tcp_server.h"
#include "engine/labs/lab_gateway.h"
#include "engine/labs/lab_link.h"

namespace hemoledger {

struct MllpOptions {
  std::string host = "127.0.0.1";  // loopback unless told otherwise
  int port = 2575;                 // 0 picks a free port
  std::size_t max_connections = 16;
  std::size_t max_frame_bytes = 1 << 20;
  std::size_t max_garbage_bytes = 64 * 1024;
  // The lab this link speaks for (`serve --mllp-lab`): results of any other
  // facility are answered AR (wrong_lab) and nothing is recorded. "" = any.
  // Each event's actor is "mllp:<MSH-3>@<MSH-4>" (docs/security.md).
  std::string lab;
  // TLS, and with a token file mutual TLS: the client certificate names the
  // principal, whose lab this connection speaks for (engine/labs/lab_link.h).
  LabLinkSecurity security;
};

class MllpListener {
 public:
  [[nodiscard]] static Result<std::unique_ptr<MllpListener>> start(LabGateway& gateway,
                                                                   const MllpOptions& options,
                                                                   Clock clock);
  int port() const { return server_->port(); }

 private:
  MllpListener() = default;
  std::unique_ptr<TcpServer> server_;
};

}  // namespace hemoledger

#include "engine/labs/mllp_listener.h"

#include <spdlog/spdlog.h>

#include <atomic>

#include "connectors/hl7.h"
#include "engine/labs/lab_messages.h"

namespace hemoledger {

namespace {

// MSH-10 of our ACKs: "HL" + the receive time in ms + a counter, at most 20
// characters (the length HL7 v2.5 gives MSH-10).
std::string ack_control_id(TimeMs now) {
  static std::atomic<std::uint32_t> counter{0};
  return "HL" + std::to_string(now) + std::to_string(++counter % 1000);
}

class MllpSession final : public TcpSession {
 public:
  MllpSession(LabGateway& gw, const MllpOptions& o, LabSender sender, Clock clock)
      : gw_(gw),
        options_(o),
        sender_(std::move(sender)),
        clock_(std::move(clock)),
        decoder_(o.max_frame_bytes) {}

  std::string receive(std::string_view bytes, bool& close) override {
    auto out = decoder_.feed(bytes);
    std::string reply;
    for (const auto& e : out.errors) {
      if (e.code == hl7::kBytesOutsideFrame) continue;
      // The frame could not be read: AR, addressed to nobody.
      const TimeMs now = clock_.now();
      hl7::Ack ack{hl7::AckCode::reject, e.message, ack_control_id(now), now,
                   hl7::AckError{hl7::err::kApplicationInternalError, "", 0, 0, e.message}};
      spdlog::warn("mllp: {} ({})", e.message, e.code);
      reply += hl7::mllp_frame(hl7::build_reject(ack));
    }
    if (out.messages.empty() && !decoder_.in_frame()) {
      garbage_ += bytes.size();
    } else if (!out.messages.empty()) {
      garbage_ = 0;
    }
    for (const auto& m : out.messages) {
      const TimeMs now = clock_.now();
      const LabReply r = deliver_hl7(gw_, m, now, ack_control_id(now), sender_);
      spdlog::info("mllp: message answered {}{}", to_string(r.outcome),
                   r.replayed ? " (retransmission)" : "");
      reply += hl7::mllp_frame(r.body);
    }
    if (garbage_ > options_.max_garbage_bytes) {
      spdlog::warn("mllp: over {} bytes outside any MLLP frame; closing the connection",
                   options_.max_garbage_bytes);
      close = true;
    }
    return reply;
  }

 private:
  LabGateway& gw_;
  MllpOptions options_;
  LabSender sender_;
  Clock clock_;
  hl7::MllpDecoder decoder_;
  std::size_t garbage_ = 0;
};

}  // namespace

Result<std::unique_ptr<MllpListener>> MllpListener::start(LabGateway& gateway,
                                                          const MllpOptions& options, Clock clock) {
  TcpServerOptions t;
  t.name = "mllp";
  t.max_connections = options.max_connections;
  auto server = start_lab_link(options.host, options.port, std::move(t), options.security,
                               options.lab, [&gateway, options, clock](LabSender sender) {
                                 return std::unique_ptr<TcpSession>(std::make_unique<MllpSession>(
                                     gateway, options, std::move(sender), clock));
                               });
  if (!server) return server.error();
  std::unique_ptr<MllpListener> l(new MllpListener());
  l->server_ = std::move(*server);
  return l;
}

}  // namespace hemoledger

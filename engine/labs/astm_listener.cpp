#include "engine/labs/astm_listener.h"

#include <spdlog/spdlog.h>

#include "connectors/astm.h"
#include "engine/labs/lab_messages.h"

namespace hemoledger {

namespace {

class AstmSession final : public TcpSession {
 public:
  AstmSession(LabGateway& gw, LabSender sender, Clock clock)
      : gw_(gw), sender_(std::move(sender)), clock_(std::move(clock)) {}

  std::string receive(std::string_view bytes, bool&) override {
    auto out = link_.feed(bytes);
    for (const auto& e : out.errors) spdlog::warn("astm: {} ({})", e.message, e.code);
    for (const auto& m : out.messages) {
      const LabReply r = deliver_astm(gw_, m, clock_.now(), "astm", sender_);
      if (r.outcome == LabOutcome::accepted) {
        spdlog::info("astm: message recorded{}", r.replayed ? " (retransmission)" : "");
      } else {
        spdlog::warn("astm: message not recorded: {}", r.body);
      }
    }
    return out.reply;
  }

  std::string idle() override {
    if (!link_.idle()) {
      spdlog::warn("astm: receiver timeout inside a transfer; the link is reset");
      link_.reset();
    }
    return {};
  }

 private:
  LabGateway& gw_;
  LabSender sender_;
  Clock clock_;
  astm::Lis1aReceiver link_;
};

}  // namespace

Result<std::unique_ptr<AstmListener>> AstmListener::start(LabGateway& gateway,
                                                          const AstmOptions& options, Clock clock) {
  TcpServerOptions t;
  t.name = "astm";
  t.max_connections = options.max_connections;
  t.idle_ms = options.receiver_timeout_ms;
  auto server = start_lab_link(options.host, options.port, std::move(t), options.security,
                               options.lab, [&gateway, clock](LabSender sender) {
                                 return std::unique_ptr<TcpSession>(std::make_unique<AstmSession>(
                                     gateway, std::move(sender), clock));
                               });
  if (!server) return server.error();
  std::unique_ptr<AstmListener> l(new AstmListener());
  l->server_ = std::move(*server);
  return l;
}

}  // namespace hemoledger

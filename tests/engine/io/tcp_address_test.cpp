// The one parser of the engine's listening addresses (engine/io/tcp_server.h).
#include <catch2/catch.hpp>
#include <string>

#include "engine/io/tcp_server.h"

using namespace hemoledger;

TEST_CASE("a listening address is a host and a port of digits only", "[io]") {
  std::string host;
  int port = -1;
  REQUIRE(split_tcp_address("127.0.0.1:8080", host, port));
  CHECK(host == "127.0.0.1");
  CHECK(port == 8080);
  REQUIRE(split_tcp_address("0.0.0.0:0", host, port));
  CHECK(port == 0);
  for (const char* bad : {"127.0.0.1:80x", "127.0.0.1:", ":8080", "127.0.0.1", "h:65536", "h:-1",
                          "h: 80", "h:123456"}) {
    INFO(bad);
    CHECK_FALSE(split_tcp_address(bad, host, port));
  }
}

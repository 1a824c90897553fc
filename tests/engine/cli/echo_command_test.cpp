// `hemoledger webhook-echo` as a child process: what it prints for the alert
// changes `serve --webhook` posts, and for anything else.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <string>

#include "tests/engine/support.h"

using namespace hemoledger::testing;

TEST_CASE("webhook-echo prints one line per alert change and names any other body as such",
          "[cli][webhooks]") {
  TempDir dir;
  const std::string log = dir.path() + "/echo.log";
  const int port = free_port();
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  Child echo({HEMOLEDGER_BINARY, "webhook-echo", "--listen", listen}, {}, log);
  REQUIRE(echo.started());
  REQUIRE(eventually(
      [&] { return read_file(log).find("receiving alert webhooks") != std::string::npos; }));

  httplib::Client client("127.0.0.1", port);
  const httplib::Headers seq = {{"X-Hemoledger-Alert-Seq", "7"}};
  auto change = client.Post(
      "/", seq, R"({"action":"raised","alert":{"severity":"high","message":"O- below 2 days"}})",
      "application/json");
  REQUIRE(change);
  CHECK(change->status == 204);
  for (const char* body : {R"({"action":"raised"})", "not json", R"({"alert":"text"})"}) {
    auto other = client.Post("/", body, "application/json");
    REQUIRE(other);
    CHECK(other->status == 204);
  }
  echo.signal(SIGTERM);
  REQUIRE(echo.wait_for(10));
  CHECK(WIFEXITED(echo.wait()));
  CHECK(WEXITSTATUS(echo.wait()) == 0);

  const std::string out = read_file(log);
  CHECK_THAT(out, Catch::Contains("#7 raised    high  O- below 2 days\n"));
  CHECK_THAT(out, Catch::Contains("(not an alert change) {\"action\":\"raised\"}\n"));
  CHECK_THAT(out, Catch::Contains("(not an alert change) not json\n"));
  CHECK_THAT(out, Catch::Contains("(not an alert change) {\"alert\":\"text\"}\n"));
}

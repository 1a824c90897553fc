// The layout follows the data path: every folder may include only itself and
// the folders before it in kRooms (engine/CMakeLists.txt links them the same
// way). This test reads the sources and fails on an #include that goes
// against the order, or on a file outside every room.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// Lowest first: the data path, connector -> event -> Kafka -> apply ->
// projection -> query -> alert, with the runtime's rooms in engine/.
const std::vector<std::string> kRooms = {
    "events",         "projections",     "connectors",      "engine/io",     "engine/kafka",
    "engine/storage", "engine/security", "engine/scaleout", "engine/ledger", "engine/queries",
    "engine/labs",    "engine/station",  "engine/server",   "engine/cli"};

// The room of a path relative to the source root ("engine/ledger/engine.h"),
// or -1 when it lies in none.
int room_of(const std::string& path) {
  for (std::size_t i = 0; i < kRooms.size(); ++i) {
    const std::string& r = kRooms[i];
    if (path.size() > r.size() && path.compare(0, r.size(), r) == 0 && path[r.size()] == '/' &&
        path.find('/', r.size() + 1) == std::string::npos) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

bool is_source(const fs::path& p) { return p.extension() == ".h" || p.extension() == ".cpp"; }

}  // namespace

TEST_CASE("no source file includes a folder later on the data path than its own", "[layout]") {
  const fs::path root = HEMOLEDGER_SOURCE_DIR;
  const std::regex include_line(R"re(^\s*#\s*include\s*"([^"]+)")re");
  int files = 0;
  for (const char* top : {"events", "projections", "connectors", "engine"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / top)) {
      if (!entry.is_regular_file() || !is_source(entry.path())) continue;
      const std::string rel = fs::relative(entry.path(), root).generic_string();
      const int own = room_of(rel);
      INFO(rel);
      CHECK(own >= 0);  // every source file lives in a room
      std::ifstream in(entry.path());
      std::string line;
      while (std::getline(in, line)) {
        std::smatch m;
        if (!std::regex_search(line, m, include_line)) continue;
        const std::string target = m[1];
        const int theirs = room_of(target);
        if (theirs < 0 && target.find('/') == std::string::npos) continue;  // a sibling's own
        INFO("#include \"" << target << "\"");
        CHECK(theirs >= 0);
        CHECK(theirs <= own);
      }
      ++files;
    }
  }
  CHECK(files > 100);
}

TEST_CASE("the room check knows a file in a room from one outside every room", "[layout]") {
  CHECK(room_of("engine/ledger/engine.h") == 8);
  CHECK(room_of("events/event.h") == 0);
  CHECK(room_of("engine/engine.h") == -1);
  CHECK(room_of("engine/ledger/deep/x.h") == -1);
  CHECK(room_of("eventsx/a.h") == -1);
}

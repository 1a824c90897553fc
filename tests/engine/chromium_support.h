// Headless Chromium for the page tests (Debian's `chromium` package): where
// it is and the flags every test starts it with.
#pragma once

#include <string>
#include <vector>

namespace hemoledger::testing {

inline constexpr const char* kChromium = "/usr/bin/chromium";

// argv for headless Chromium with the profile in `profile_dir`, English UI,
// and every network feature that would reach outside the machine turned off;
// the caller appends its own flags and the URL.
inline std::vector<std::string> headless_chromium_args(const std::string& profile_dir) {
  return {kChromium,
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-dev-shm-usage",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--lang=en-US",
          "--user-data-dir=" + profile_dir};
}

}  // namespace hemoledger::testing

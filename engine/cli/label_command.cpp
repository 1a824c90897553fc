// `hemoledger label`: decodes ISBT 128 scans and prints what they mean as
// JSON (connectors/label_command.h does the work).
#include "connectors/label_command.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "engine/cli/command.h"

namespace hemoledger {

Subcommand add_label_command(CLI::App& app) {
  auto scans = std::make_shared<std::vector<std::string>>();
  auto* cmd = app.add_subcommand("label", "Decode ISBT 128 scans and print them as JSON");
  cmd->add_option("DATA", *scans, "Scanned strings, e.g. =G12341765432170")->required();
  return {cmd, [scans](const CommandContext&) {
            return run_label_command(*scans, std::cout, std::cerr);
          }};
}

}  // namespace hemoledger

// `hemoledger label`: decodes ISBT 128 scans and prints what they mean as
// JSON (connectors/label_command.h does the work), or with --print renders a
// unit's base label (connectors/isbt128_label.h) from the data directory:
//
//   hemoledger label =G12341765432170 =%5100
//   hemoledger label --print G123426000001 E0382V00 --format pdf --output unit.pdf
//
// --print writes SVG (default) or PDF to --output, or to standard output;
// exit code 2 with the reason when the unit is unknown or cannot be printed.
#include "connectors/label_command.h"

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <memory>

#include "connectors/isbt128_label.h"
#include "engine/cli/cli_support.h"
#include "engine/cli/command.h"
#include "engine/queries/queries.h"

namespace hemoledger {

namespace {

struct LabelArgs {
  std::vector<std::string> data;  // scans, or DIN and PRODUCT with --print
  bool print = false;
  std::string format = "svg", output, flags = "00", data_dir;
};

int write_output(const std::string& bytes, const std::string& path) {
  if (path.empty() || path == "-") {
    std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return std::cout.flush() ? 0 : fail(make_error("write_failed", "Cannot write the label."));
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return fail(make_error("write_failed", "Cannot write the label to " + path + "."));
  return 0;
}

int print_label(const LabelArgs& a, const ReferenceData& ref, const Store& store) {
  auto format = parse_label_format(a.format);
  if (!format) return fail(format.error());
  const std::string& din = a.data[0];
  auto d = find_donation(store, din);
  if (!d) return fail(d.error());
  if (!d->has_value()) return fail(make_error("not_found", "No donation " + din + " is known."));
  auto label = base_label(**d, a.data[1], ref, a.flags == "check" ? "" : a.flags);
  if (!label) return fail(label.error());
  auto bytes = render_label(*label, *format);
  if (!bytes) return fail(bytes.error());
  return write_output(*bytes, a.output);
}

int run_label(const LabelArgs& a, const CommandContext& ctx) {
  if (!a.print) return run_label_command(a.data, std::cout, std::cerr);
  if (a.data.size() != 2) {
    return fail(make_error("bad_arguments", "label --print takes a DIN and a product code."));
  }
  return with_data_dir(
      ctx.reference_dir, a.data_dir,
      [&](const ReferenceData& ref, const Store& store) { return print_label(a, ref, store); });
}

}  // namespace

Subcommand add_label_command(CLI::App& app) {
  auto a = std::make_shared<LabelArgs>();
  auto* cmd = app.add_subcommand(
      "label", "Decode ISBT 128 scans and print them as JSON, or print a unit's label (--print)");
  cmd->add_option("DATA", a->data,
                  "Scanned strings, e.g. =G12341765432170; with --print: DIN and PRODUCT")
      ->required();
  cmd->add_flag("--print", a->print,
                "Render the base label of unit DIN PRODUCT (100 x 100 mm) from the data directory");
  cmd->add_option("--format", a->format, "--print: svg or pdf")->capture_default_str();
  cmd->add_option("--output", a->output, "--print: the file to write (default: standard output)");
  cmd->add_option("--flags", a->flags,
                  "--print: the DIN's flag characters (00, ..., or check for the type-3 check "
                  "flags)")
      ->capture_default_str();
  add_data_dir_option(*cmd, a->data_dir);
  return {cmd, [a](const CommandContext& ctx) { return run_label(*a, ctx); }};
}

}  // namespace hemoledger

// `hemoledger token new`: creates an API token, prints it once on standard
// output and appends only its SHA-256 to the token file (docs/security.md).
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "engine/cli/cli_support.h"
#include "engine/cli/command.h"
#include "engine/cli/reference_files.h"
#include "engine/security/permissions.h"
#include "engine/security/token_file.h"

namespace hemoledger {
namespace {

struct TokenArgs {
  Principal principal;  // its role from `role`
  std::string role, token_file;
};

int run_token_new(const TokenArgs& a, const CommandContext& ctx) {
  auto ref = load_reference_data(ctx.reference_dir);
  if (!ref) return fail(ref.error());
  const auto role = parse_role(a.role);
  if (!role) {
    return fail(make_error("bad_role", "--role must be station, lab, coordinator or admin."));
  }
  Principal principal = a.principal;
  principal.role = *role;
  auto token = add_token(a.token_file, principal, &*ref);
  if (!token) return fail(token.error());
  std::cerr << "token " << principal.name << " (" << to_string(*role)
            << (principal.facility.empty() ? "" : " at " + principal.facility) << ") added to "
            << a.token_file << "; it is shown once, here, and stored nowhere:\n";
  std::cout << *token << "\n";
  return 0;
}

}  // namespace

Subcommand add_token_command(CLI::App& app) {
  auto a = std::make_shared<TokenArgs>();
  auto* token = app.add_subcommand("token", "Manage API tokens (docs/security.md)");
  token->require_subcommand(1);
  auto* cmd = token->add_subcommand(
      "new", "Create a token: prints it once and appends only its SHA-256 to the token file");
  cmd->add_option("--name", a->principal.name, "Its name, recorded as the actor")->required();
  cmd->add_option("--role", a->role, "station, lab, coordinator or admin")->required();
  cmd->add_option("--facility", a->principal.facility, "The facility of a station or lab token");
  cmd->add_option("--tokens", a->token_file, "The token file (created if missing)")->required();
  return {token, [a](const CommandContext& ctx) { return run_token_new(*a, ctx); }};
}

}  // namespace hemoledger

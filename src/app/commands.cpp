#include "app/commands.hpp"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "app/app.hpp"
#include "app/config.hpp"
#include "app/logging.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"
#include "lib/async/blocking_pool.hpp"
#include "lib/error.hpp"

namespace poste::app {

namespace {

struct CommonFlags {
  std::string config_path;
  std::string data_dir;
  std::string listen;
};

Config Load(const CommonFlags& flags) {
  LoadOptions options;
  options.config_path = flags.config_path;
  if (!flags.data_dir.empty()) options.cli_overrides["data.dir"] = flags.data_dir;
  if (!flags.listen.empty()) options.cli_overrides["server.listen"] = flags.listen;
  return LoadConfig(options);
}

int Serve(const CommonFlags& flags) {
  auto started = std::chrono::steady_clock::now();
  Config config = Load(flags);
  SetupLogging(config.log.level, config.log.format);
  spdlog::info("starting Poste {} ({})", POSTE_VERSION, DescribeConfig(config));
  App app(config);
  spdlog::info(
      "ready in {} ms",
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
  int code = app.Serve();
  spdlog::shutdown();
  return code;
}

int Migrate(const CommonFlags& flags) {
  Config config = Load(flags);
  BlockingPool pool(1);
  BlockingPool::Install(&pool);
  std::filesystem::create_directories(config.data.dir);
  auto database = db::Database::Open({ResolvedDatabaseUrl(config), 1});
  auto applied = db::Migrate(*database);
  if (applied.empty()) {
    std::cout << "The database is up to date.\n";
  } else {
    for (const auto& name : applied) std::cout << "applied " << name << "\n";
  }
  return 0;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App cli{"Poste: many websites and their email, from one self-hosted server.", "poste"};
  // At most one command; with none, the help is printed (an unknown word is reported by name, which
  // require_subcommand(1) would hide behind "A subcommand is required").
  cli.require_subcommand(0, 1);
  CommonFlags flags;

  auto add_common = [&flags](CLI::App* cmd) {
    cmd->add_option("--config", flags.config_path, "TOML configuration file (default: ./poste.toml if present)");
    cmd->add_option("--data", flags.data_dir, "Data directory (env POSTE_DATA_DIR; default ./data)");
  };

  auto* serve = cli.add_subcommand("serve", "Run the server (creates and migrates the database on first run)");
  add_common(serve);
  serve->add_option("--listen", flags.listen,
                    "HOST:PORT to listen on (env POSTE_SERVER__LISTEN; default 127.0.0.1:8080)");

  auto* migrate = cli.add_subcommand("migrate", "Apply pending database migrations, then exit");
  add_common(migrate);

  auto* version = cli.add_subcommand("version", "Print the version");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }

  if (cli.get_subcommands().empty()) {
    std::cerr << cli.help();
    return 1;
  }

  try {
    if (*serve) return Serve(flags);
    if (*migrate) return Migrate(flags);
    if (*version) {
      std::cout << "poste " << POSTE_VERSION << "\n";
      return 0;
    }
  } catch (const ConfigError& e) {
    std::cerr << "poste: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const AppError& e) {
    // The operator's console may see the internal detail; clients never do.
    std::cerr << "poste: " << e.message() << (e.detail().empty() ? "" : " (" + e.detail() + ")") << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "poste: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace poste::app

#include "app/commands.hpp"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include "app/app.hpp"
#include "app/config.hpp"
#include "app/keys_command.hpp"
#include "app/logging.hpp"
#include "app/user_commands.hpp"
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

// The database of a one-shot command (migrated first, so a command works on a fresh data directory too).
struct CommandDb {
  explicit CommandDb(const Config& config) : pool(1) {
    previous = BlockingPool::Install(&pool);
    std::filesystem::create_directories(config.data.dir);
    database = db::Database::Open({ResolvedDatabaseUrl(config), 1});
    db::Migrate(*database);
  }
  ~CommandDb() { BlockingPool::Install(previous); }
  CommandDb(const CommandDb&) = delete;
  CommandDb& operator=(const CommandDb&) = delete;

  BlockingPool pool;
  BlockingPool* previous = nullptr;
  std::unique_ptr<db::Database> database;
};

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

  // poste user add | passwd | list | disable | enable
  auto* user = cli.add_subcommand("user", "Manage user accounts (add, passwd, list, disable, enable)");
  user->require_subcommand(1);
  UserAddArgs add_args;
  std::string user_email;
  bool password_stdin = false;
  auto* user_add = user->add_subcommand("add", "Create a user (prints a generated password unless --password-stdin)");
  add_common(user_add);
  user_add->add_option("--email", add_args.email, "Email address (unique, case-insensitive)")->required();
  user_add->add_option("--name", add_args.name, "Display name")->required();
  user_add->add_option("--role", add_args.role, "admin or editor")
      ->required()
      ->check(CLI::IsMember({"admin", "editor"}));
  user_add->add_option("--sites", add_args.site_ids, "Site ids an editor may access, e.g. 1,2")->delimiter(',');
  user_add->add_flag("--password-stdin", add_args.password_stdin, "Read the password from the first line of stdin");
  auto* user_passwd = user->add_subcommand(
      "passwd", "Set a user's password (generated unless --password-stdin); revokes their sessions");
  add_common(user_passwd);
  user_passwd->add_option("--email", user_email, "The user's email address")->required();
  user_passwd->add_flag("--password-stdin", password_stdin, "Read the password from the first line of stdin");
  auto* user_list = user->add_subcommand("list", "List users: id, email, role, active, sites, last login");
  add_common(user_list);
  auto* user_disable = user->add_subcommand("disable", "Deactivate a user (they can no longer sign in)");
  add_common(user_disable);
  user_disable->add_option("--email", user_email, "The user's email address")->required();
  auto* user_enable = user->add_subcommand("enable", "Reactivate a user");
  add_common(user_enable);
  user_enable->add_option("--email", user_email, "The user's email address")->required();

  // poste keys rotate
  auto* keys = cli.add_subcommand("keys", "Manage the master key (rotate)");
  keys->require_subcommand(1);
  bool new_key_stdin = false;
  auto* keys_rotate = keys->add_subcommand(
      "rotate",
      "Re-encrypt every secret under a new master key (generated unless --new-key-stdin), in one transaction");
  add_common(keys_rotate);
  keys_rotate->add_flag("--new-key-stdin", new_key_stdin, "Read the new key (base64, 32 bytes) from stdin");

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
    if (*user) {
      CommandDb db(Load(flags));
      if (*user_add) return UserAdd(*db.database, add_args, std::cin, std::cout);
      if (*user_passwd) return UserPasswd(*db.database, user_email, password_stdin, std::cin, std::cout);
      if (*user_list) return UserList(*db.database, std::cout);
      if (*user_disable) return UserSetActive(*db.database, user_email, false, std::cout);
      if (*user_enable) return UserSetActive(*db.database, user_email, true, std::cout);
    }
    if (*keys_rotate) {
      Config config = Load(flags);
      CommandDb db(config);
      return KeysRotateCommand(config, *db.database, new_key_stdin, std::cin, std::cout);
    }
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
    for (const auto& field : e.fields()) std::cerr << "  " << field.field << ": " << field.message << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "poste: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace poste::app

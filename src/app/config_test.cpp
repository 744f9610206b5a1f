#include "app/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "app/config_keys.hpp"

namespace poste::app {
namespace {

namespace fs = std::filesystem;
using Env = std::map<std::string, std::string>;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("poste_config_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& text, const std::string& name = "poste.toml") {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }

  // Loads with no file unless one is given, an injected environment and CLI overrides.
  Config Load(const std::string& file = "", Env env = {}, std::map<std::string, std::string> cli = {}) {
    LoadOptions options;
    options.config_path = file;
    options.default_config_path = (dir_ / "absent.toml").string();
    options.environment = std::move(env);
    options.cli_overrides = std::move(cli);
    return LoadConfig(options);
  }

  // The ConfigError message, or a failure when loading succeeds.
  std::string Error(const std::string& file = "", Env env = {}, std::map<std::string, std::string> cli = {}) {
    try {
      Load(file, std::move(env), std::move(cli));
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected a ConfigError";
    return {};
  }

  fs::path dir_;
};

TEST_F(ConfigTest, DefaultsWithNoSource) {
  Config c = Load();
  EXPECT_EQ(c.file, "");
  EXPECT_EQ(c.server.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.server.host, "127.0.0.1");
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_EQ(c.server.io_threads, 0u);
  EXPECT_EQ(c.server.blocking_threads, 16u);
  EXPECT_EQ(c.server.header_limit_bytes, 16384u);
  EXPECT_EQ(c.server.body_limit_bytes, 1048576u);
  EXPECT_EQ(c.server.header_timeout_ms, 10000);
  EXPECT_EQ(c.server.body_timeout_ms, 30000);
  EXPECT_EQ(c.server.keepalive_timeout_ms, 60000);
  EXPECT_EQ(c.server.drain_timeout_ms, 10000);
  EXPECT_TRUE(c.server.cors_origins.empty());
  EXPECT_TRUE(c.server.gzip);
  EXPECT_TRUE(c.server.access_log);
  EXPECT_EQ(c.data.dir, "./data");
  EXPECT_EQ(c.database.url, "");
  EXPECT_EQ(c.database.pool_size, 8u);
  EXPECT_EQ(c.jobs.workers, 2u);
  EXPECT_EQ(c.jobs.poll_interval_ms, 500);
  EXPECT_EQ(c.jobs.lease_ms, 60000);
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.log.format, "json");
}

TEST_F(ConfigTest, FileSetsEveryKind) {
  Config c = Load(Write(R"(
[server]
listen = "0.0.0.0:0"
io_threads = 4
gzip = false
cors_origins = ["https://Admin.Example.com", "http://localhost:5173"]
[data]
dir = "/srv/poste"
[database]
url = "postgresql://poste:pw@db:5432/poste"
pool_size = 20
[jobs]
workers = 0
[log]
level = "debug"
format = "text"
)"));
  EXPECT_EQ(c.file, (dir_ / "poste.toml").string());
  EXPECT_EQ(c.server.host, "0.0.0.0");
  EXPECT_EQ(c.server.port, 0);
  EXPECT_EQ(c.server.io_threads, 4u);
  EXPECT_FALSE(c.server.gzip);
  EXPECT_EQ(c.server.cors_origins, (std::vector<std::string>{"https://admin.example.com", "http://localhost:5173"}));
  EXPECT_EQ(c.data.dir, "/srv/poste");
  EXPECT_EQ(c.database.url, "postgresql://poste:pw@db:5432/poste");
  EXPECT_EQ(c.database.pool_size, 20u);
  EXPECT_EQ(c.jobs.workers, 0u);
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.format, "text");
  EXPECT_EQ(c.server.blocking_threads, 16u);  // untouched keys keep their defaults
}

TEST_F(ConfigTest, PriorityDefaultsFileEnvCli) {
  std::string file = Write("[server]\nlisten = \"127.0.0.1:1000\"\nio_threads = 3\nblocking_threads = 5\n");
  Config from_file = Load(file);
  EXPECT_EQ(from_file.server.port, 1000);
  EXPECT_EQ(from_file.server.io_threads, 3u);

  Env env{{"POSTE_SERVER__LISTEN", "127.0.0.1:2000"}, {"POSTE_SERVER__IO_THREADS", "7"}};
  Config from_env = Load(file, env);
  EXPECT_EQ(from_env.server.port, 2000);
  EXPECT_EQ(from_env.server.io_threads, 7u);
  EXPECT_EQ(from_env.server.blocking_threads, 5u);  // the file still applies where env is silent

  Config from_cli = Load(file, env, {{"server.listen", "localhost:3000"}});
  EXPECT_EQ(from_cli.server.listen, "localhost:3000");
  EXPECT_EQ(from_cli.server.host, "localhost");
  EXPECT_EQ(from_cli.server.port, 3000);
  EXPECT_EQ(from_cli.server.io_threads, 7u);
}

TEST_F(ConfigTest, DefaultFileIsReadOnlyWhenPresentAndExplicitFileMustExist) {
  LoadOptions options;
  options.environment = Env{};
  options.default_config_path = (dir_ / "poste.toml").string();
  EXPECT_EQ(LoadConfig(options).server.port, 8080);  // absent: defaults, no error
  Write("[server]\nlisten = \"127.0.0.1:9999\"\n");
  EXPECT_EQ(LoadConfig(options).server.port, 9999);
  options.config_path = (dir_ / "missing.toml").string();
  try {
    LoadConfig(options);
    FAIL() << "a missing --config file must stop start-up";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "config file " + options.config_path + ": cannot be read (No such file or directory)");
  }
}

TEST_F(ConfigTest, DataDirEnvTwins) {
  EXPECT_EQ(Load("", {{"POSTE_DATA_DIR", "/a"}}).data.dir, "/a");
  EXPECT_EQ(Load("", {{"POSTE_DATA__DIR", "/b"}}).data.dir, "/b");
  EXPECT_EQ(Load("", {{"POSTE_DATA_DIR", "/c"}, {"POSTE_DATA__DIR", "/c"}}).data.dir, "/c");
  EXPECT_EQ(Error("", {{"POSTE_DATA_DIR", "/a"}, {"POSTE_DATA__DIR", "/b"}}),
            "data.dir: POSTE_DATA_DIR and POSTE_DATA__DIR are both set, to different values");
  EXPECT_EQ(Load("", {{"POSTE_DATA_DIR", "/a"}}, {{"data.dir", "/cli"}}).data.dir, "/cli");
  EXPECT_EQ(Error("", {{"POSTE_DATA_DIR", ""}}), "data.dir: must not be empty (environment variable POSTE_DATA_DIR)");
}

TEST_F(ConfigTest, EnvironmentValuesAreParsedByKind) {
  Config c = Load("", {{"POSTE_SERVER__CORS_ORIGINS", " https://a.example , https://b.example:8443,,"},
                       {"POSTE_SERVER__GZIP", "off"},
                       {"POSTE_SERVER__ACCESS_LOG", "FALSE"},
                       {"POSTE_JOBS__WORKERS", "5"},
                       {"POSTE_DATABASE__URL", "postgres://u@h/db"},
                       {"POSTE_MASTER_KEY", "not a config key"},
                       {"HOME", "/root"}});
  EXPECT_EQ(c.server.cors_origins, (std::vector<std::string>{"https://a.example", "https://b.example:8443"}));
  EXPECT_FALSE(c.server.gzip);
  EXPECT_FALSE(c.server.access_log);
  EXPECT_EQ(c.jobs.workers, 5u);
  EXPECT_EQ(c.database.url, "postgres://u@h/db");
  std::string file = Write("[server]\ncors_origins = [\"https://a.example\"]\n");
  EXPECT_TRUE(Load(file, {{"POSTE_SERVER__CORS_ORIGINS", ""}}).server.cors_origins.empty());
  EXPECT_EQ(Error("", {{"POSTE_SERVER__GZIP", "maybe"}}),
            "server.gzip: expected true or false, got \"maybe\" (environment variable POSTE_SERVER__GZIP)");
  EXPECT_EQ(Error("", {{"POSTE_JOBS__WORKERS", "two"}}),
            "jobs.workers: expected an integer, got \"two\" (environment variable POSTE_JOBS__WORKERS)");
  EXPECT_EQ(Error("", {{"POSTE_JOBS__WORKERS", "2 "}}),
            "jobs.workers: expected an integer, got \"2 \" (environment variable POSTE_JOBS__WORKERS)");
}

TEST_F(ConfigTest, UnknownKeysStopStartUp) {
  EXPECT_EQ(Error(Write("[server]\nlisen = \"127.0.0.1:80\"\n")),
            "config file " + (dir_ / "poste.toml").string() +
                ": unknown key \"server.lisen\" (did you mean \"server.listen\"?) (line 2)");
  EXPECT_EQ(Error(Write("[smtp]\nhost = \"x\"\n")),
            "config file " + (dir_ / "poste.toml").string() + ": unknown key \"smtp.host\" (line 2)");
  EXPECT_EQ(Error(Write("listen = \"127.0.0.1:80\"\n")),
            "config file " + (dir_ / "poste.toml").string() + ": unknown key \"listen\" (line 1)");
  EXPECT_EQ(Error(Write("[server.tls]\ncert = \"x\"\n")),
            "config file " + (dir_ / "poste.toml").string() + ": unknown key \"server.tls\" (line 1)");
  EXPECT_EQ(Error("", {{"POSTE_SERVER__LISEN", "x"}}),
            "environment variable POSTE_SERVER__LISEN: unknown key \"server.lisen\" (did you mean \"server.listen\"?)");
  EXPECT_EQ(Error("", {}, {{"server.nope", "1"}}), "command line: unknown key \"server.nope\"");
}

TEST_F(ConfigTest, WrongTypesInFile) {
  std::string path = (dir_ / "poste.toml").string();
  EXPECT_EQ(Error(Write("[server]\nio_threads = \"4\"\n")),
            "server.io_threads: expected an integer, got a string (config file " + path + ", line 2)");
  EXPECT_EQ(Error(Write("[server]\nio_threads = 1.5\n")),
            "server.io_threads: expected an integer, got a floating-point number (config file " + path + ", line 2)");
  EXPECT_EQ(Error(Write("[server]\ngzip = \"yes\"\n")),
            "server.gzip: expected true or false, got a string (config file " + path + ", line 2)");
  EXPECT_EQ(Error(Write("[server]\n\ncors_origins = [\"https://a.example\", 3]\n")),
            "server.cors_origins: expected an array of strings, got an array (config file " + path + ", line 3)");
  EXPECT_EQ(Error(Write("[log]\nlevel = 3\n")),
            "log.level: expected a string, got an integer (config file " + path + ", line 2)");
}

TEST_F(ConfigTest, ParseErrorNamesFileLineAndColumn) {
  std::string message = Error(Write("[server]\nlisten = \"127.0.0.1:80\"\nio_threads = = 4\n"));
  EXPECT_TRUE(message.starts_with("config file " + (dir_ / "poste.toml").string() + ", line 3, column ")) << message;
  EXPECT_TRUE(std::regex_search(message, std::regex(R"(, line 3, column \d+: .+)"))) << message;
}

TEST_F(ConfigTest, ListenValidation) {
  struct Case {
    std::string text, host;
    int port;
  };
  for (const Case& ok :
       {Case{"0.0.0.0:0", "0.0.0.0", 0}, Case{"localhost:80", "localhost", 80}, Case{"[::1]:8080", "::1", 8080},
        Case{"[::]:65535", "::", 65535}, Case{"mail.example.com:443", "mail.example.com", 443}}) {
    Config c = Load("", {}, {{"server.listen", ok.text}});
    EXPECT_EQ(c.server.host, ok.host) << ok.text;
    EXPECT_EQ(c.server.port, ok.port) << ok.text;
  }
  EXPECT_EQ(Error("", {{"POSTE_SERVER__LISTEN", "nonsense"}}),
            "server.listen: expected HOST:PORT, got \"nonsense\" (environment variable POSTE_SERVER__LISTEN)");
  EXPECT_EQ(Error("", {}, {{"server.listen", "127.0.0.1:65536"}}),
            "server.listen: port must be a number between 0 and 65535, got \"65536\" in \"127.0.0.1:65536\" "
            "(command line)");
  for (std::string bad : {":80", "127.0.0.1:", "127.0.0.1:http", "::1:80", "999.1.1.1:80", "bad_host:80",
                          "-a.example:80", "[zz]:80", "[::1]80", "a..b:80", "127.0.0.1:-1"}) {
    std::string message = Error("", {}, {{"server.listen", bad}});
    EXPECT_TRUE(message.starts_with("server.listen: ")) << bad << " -> " << message;
  }
}

TEST_F(ConfigTest, RangeAndEnumValidation) {
  EXPECT_EQ(Error("", {{"POSTE_SERVER__IO_THREADS", "300"}}),
            "server.io_threads: must be between 0 and 256, got 300 (environment variable POSTE_SERVER__IO_THREADS)");
  EXPECT_EQ(Error("", {{"POSTE_SERVER__BLOCKING_THREADS", "0"}}).substr(0, 50),
            "server.blocking_threads: must be between 1 and 102");
  EXPECT_EQ(Error("", {{"POSTE_SERVER__IO_THREADS", "-1"}}).substr(0, 46),
            "server.io_threads: must be between 0 and 256, ");
  for (const char* key : {"SERVER__HEADER_LIMIT_BYTES", "SERVER__BODY_LIMIT_BYTES", "SERVER__HEADER_TIMEOUT_MS",
                          "SERVER__BODY_TIMEOUT_MS", "SERVER__KEEPALIVE_TIMEOUT_MS", "SERVER__DRAIN_TIMEOUT_MS",
                          "DATABASE__POOL_SIZE", "JOBS__WORKERS", "JOBS__POLL_INTERVAL_MS", "JOBS__LEASE_MS"}) {
    std::string name = std::string("POSTE_") + key;
    EXPECT_NE(Error("", {{name, "99999999999"}}).find("must be between"), std::string::npos) << name;
  }
  EXPECT_EQ(Load("", {{"POSTE_SERVER__DRAIN_TIMEOUT_MS", "0"}}).server.drain_timeout_ms, 0);
  EXPECT_EQ(Error("", {{"POSTE_LOG__LEVEL", "verbose"}}),
            "log.level: expected one of trace|debug|info|warn|error, got \"verbose\" (environment variable "
            "POSTE_LOG__LEVEL)");
  EXPECT_EQ(Error("", {{"POSTE_LOG__FORMAT", "xml"}}),
            "log.format: expected one of json|text, got \"xml\" (environment variable POSTE_LOG__FORMAT)");
}

// dkim-tls: the CA file for SMTP and IMAP servers must be readable when set.
TEST_F(ConfigTest, TlsCaFileMustBeReadable) {
  EXPECT_EQ(Load("", {}).mail.tls_ca_file, "");
  EXPECT_TRUE(Error("", {{"POSTE_MAIL__TLS_CA_FILE", "/nonexistent/ca.pem"}})
                  .starts_with("mail.tls_ca_file: expected \"\" or a readable PEM file of CA certificates, got "
                               "\"/nonexistent/ca.pem\" (No such file or directory)"));
  const auto file = std::filesystem::temp_directory_path() / "poste-config-test-ca.pem";
  std::ofstream(file) << "-----BEGIN CERTIFICATE-----\n";
  EXPECT_EQ(Load("", {{"POSTE_MAIL__TLS_CA_FILE", file.string()}}).mail.tls_ca_file, file.string());
  std::filesystem::remove(file);
}

TEST_F(ConfigTest, CorsOriginValidation) {
  for (std::string bad : {"example.com", "https://example.com/", "https://example.com/path", "ftp://example.com",
                          "https://", "https://exa mple.com", "https://example.com:0", "https://example.com:99999",
                          "https://user@example.com", "*"}) {
    std::string message = Error("", {}, {{"server.cors_origins", bad}});
    EXPECT_TRUE(message.starts_with("server.cors_origins: expected an origin like https://example.com")) << bad;
  }
  Config c = Load("", {}, {{"server.cors_origins", "HTTPS://Example.COM:8443,http://[::1]:3000,http://127.0.0.1"}});
  EXPECT_EQ(c.server.cors_origins,
            (std::vector<std::string>{"https://example.com:8443", "http://[::1]:3000", "http://127.0.0.1"}));
}

TEST_F(ConfigTest, DatabaseUrlValidationNeverEchoesThePassword) {
  EXPECT_EQ(Load("", {{"POSTE_DATABASE__URL", "sqlite:///var/lib/poste/p.db"}}).database.url,
            "sqlite:///var/lib/poste/p.db");
  std::string message = Error("", {{"POSTE_DATABASE__URL", "mysql://root:hunter2@db/poste"}});
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  EXPECT_TRUE(message.starts_with("database.url: expected \"\" (SQLite in data.dir)")) << message;
  EXPECT_TRUE(Error("", {{"POSTE_DATABASE__URL", "sqlite://:memory:"}}).starts_with("database.url: "));
}

TEST_F(ConfigTest, DescribeConfigListsEveryKeyWithoutSecrets) {
  Config c = Load("", {{"POSTE_DATABASE__URL", "postgresql://poste:hunter2@db:5432/poste?sslmode=require"}});
  std::string text = DescribeConfig(c);
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_NE(text.find("database.url=\"postgresql://poste:***@db:5432/poste?sslmode=require\""), std::string::npos)
      << text;
  EXPECT_NE(text.find("server.listen=\"127.0.0.1:8080\" server.io_threads=0 "), std::string::npos) << text;
  EXPECT_NE(text.find("server.cors_origins=[] server.gzip=true"), std::string::npos) << text;
  EXPECT_EQ(text.find('\n'), std::string::npos);
  for (const auto& key : ConfigKeys()) EXPECT_NE(text.find(" " + key + "="), std::string::npos) << key;
}

TEST_F(ConfigTest, SuggestOnlyCloseKeys) {
  EXPECT_EQ(config_keys::Suggest("jobs.worker"), "jobs.workers");
  EXPECT_EQ(config_keys::Suggest("completely.different"), "");
}

// The shipped example documents every key, and uncommented it yields exactly the defaults.
TEST_F(ConfigTest, ExampleFileDocumentsEveryKeyWithItsDefault) {
  fs::path example = POSTE_EXAMPLE_CONFIG;
  std::ifstream in(example);
  ASSERT_TRUE(in) << example;
  std::ostringstream uncommented;
  std::string line;
  std::string section;
  std::vector<std::string> documented;
  const std::regex setting(R"(^# ([a-z_]+) = .*$)");
  std::smatch match;
  while (std::getline(in, line)) {
    if (line.starts_with('[')) section = line.substr(1, line.size() - 2);
    if (std::regex_match(line, match, setting)) {
      documented.push_back(section + "." + match[1].str());
      line = line.substr(2);
    }
    uncommented << line << "\n";
  }
  EXPECT_EQ(documented, ConfigKeys());
  Config from_example = Load(Write(uncommented.str(), "example.toml"));
  Config defaults = Load();
  EXPECT_EQ(DescribeConfig(from_example).substr(DescribeConfig(from_example).find(' ')),
            DescribeConfig(defaults).substr(DescribeConfig(defaults).find(' ')));
}

}  // namespace
}  // namespace poste::app

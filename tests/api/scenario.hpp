#pragma once
// Declarative API scenarios (method, path, headers, body -> status, body fragments, headers), run
// in-process against a fresh, migrated database of each dialect. Later issues add their tables.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/app.hpp"
#include "lib/web/message.hpp"
#include "support/db_fixture.hpp"

namespace poste::testing {

struct Scenario {
  std::string name;
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int status = 200;
  std::vector<std::string> body_contains;                          // substrings the body must hold
  std::vector<std::pair<std::string, std::string>> header_equals;  // exact header values
};

// Builds a whole App on a fresh database of the test's dialect; data.dir is a temp directory.
class ApiTest : public DbTest {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Called with the test configuration before the App is built: a test changes what it needs.
  virtual void Configure(app::Config& /*config*/) {}

  web::Response Call(const std::string& method, const std::string& target,
                     const std::vector<std::pair<std::string, std::string>>& headers = {},
                     const std::string& body = {});
  // The same from client address `ip`, with Content-Type: application/json added when there is a body and
  // no Content-Type header.
  web::Response CallFrom(const std::string& ip, const std::string& method, const std::string& target,
                         const std::vector<std::pair<std::string, std::string>>& headers = {},
                         const std::string& body = {});
  // Runs each scenario, reporting every mismatch with the scenario's name.
  void Run(const std::vector<Scenario>& scenarios);

  app::App& application() { return *app_; }

 private:
  // Through the pipeline; a streamed body (a file, a cached answer) read into `body`, except for HEAD.
  web::Response Send(web::Request& request);

  std::string data_dir_;
  std::unique_ptr<app::App> app_;
};

}  // namespace poste::testing

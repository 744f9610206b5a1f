#include "scenario.hpp"

#include <filesystem>

#include "http/pipeline.hpp"
#include "lib/web/body_source.hpp"
#include "lib/web/message.hpp"
#include "support/run_task.hpp"

namespace poste::testing {

void ApiTest::SetUp() {
  DbTest::SetUp();
  data_dir_ = (std::filesystem::temp_directory_path() /
               ("poste-api-" + std::to_string(::getpid()) + "-" + std::to_string(reinterpret_cast<uintptr_t>(this))))
                  .string();
  std::filesystem::create_directories(data_dir_);
  app::Config config;
  config.data.dir = data_dir_;
  config.database.url = db_url();
  config.database.pool_size = 2;
  config.server.blocking_threads = 2;
  config.server.access_log = false;
  config.jobs.workers = 0;
  Configure(config);
  app_ = std::make_unique<app::App>(config);
}

void ApiTest::TearDown() {
  app_.reset();
  std::error_code ec;
  std::filesystem::remove_all(data_dir_, ec);
  DbTest::TearDown();
}

web::Response ApiTest::Call(const std::string& method, const std::string& target,
                            const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  web::Request request;
  request.method = method;
  request.target = target;
  web::SplitTarget(target, request.path, request.query);
  for (const auto& [k, v] : headers) request.headers.Add(k, v);
  request.body = body;
  request.remote_ip = "127.0.0.1";
  return Send(request);
}

web::Response ApiTest::CallFrom(const std::string& ip, const std::string& method, const std::string& target,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                const std::string& body) {
  web::Request request;
  request.method = method;
  request.target = target;
  web::SplitTarget(target, request.path, request.query);
  for (const auto& [k, v] : headers) request.headers.Add(k, v);
  if (!body.empty() && !request.headers.Get("Content-Type")) request.headers.Set("Content-Type", "application/json");
  request.body = body;
  request.remote_ip = ip;
  return Send(request);
}

web::Response ApiTest::Send(web::Request& request) {
  auto r = RunTask(app_->pipeline().Handle(request));
  if (r.stream && request.method != "HEAD") {
    r.body = RunTask(web::ReadAll(*r.stream, 1 << 30));
    r.stream.reset();
  }
  return r;
}

void ApiTest::Run(const std::vector<Scenario>& scenarios) {
  for (const auto& s : scenarios) {
    SCOPED_TRACE(s.name + ": " + s.method + " " + s.target);
    auto r = Call(s.method, s.target, s.headers, s.body);
    EXPECT_EQ(r.status, s.status) << r.body;
    for (const auto& fragment : s.body_contains) {
      EXPECT_NE(r.body.find(fragment), std::string::npos) << "missing \"" << fragment << "\" in " << r.body;
    }
    for (const auto& [name, value] : s.header_equals) {
      auto got = r.headers.Get(name);
      EXPECT_TRUE(got.has_value()) << "missing header " << name;
      if (got) {
        EXPECT_EQ(*got, value) << name;
      }
    }
  }
}

}  // namespace poste::testing

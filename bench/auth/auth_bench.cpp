// What token authentication adds to a request: the same trivial route through http::Pipeline::Handle, with
// and without AuthGuard::Authenticate() in front, driven in-process (no sockets) on one io_context that is
// reused between iterations, on SQLite in a temporary directory. The per-request overhead of each credential
// is its time minus BM_Pipeline_NoAuth, measured in the same run. Micro-benchmarks of the parts (JWT
// verification, the cached auth-state lookup, the API key path) follow.
#include <utility>  // before Asio: Boost 1.74 + g++ 12 coroutines need std::exchange

#include <benchmark/benchmark.h>
#include <soci/soci.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "db/database.hpp"
#include "db/migrations.hpp"
#include "http/pipeline.hpp"
#include "lib/async/blocking.hpp"
#include "lib/async/blocking_pool.hpp"
#include "lib/crypto/random.hpp"
#include "lib/crypto/secret_box.hpp"
#include "lib/web/router.hpp"
#include "modules/auth/auth_guard.hpp"
#include "modules/auth/credentials_service.hpp"
#include "modules/auth/token_service.hpp"
#include "modules/users/users_store.hpp"

namespace {

using namespace poste;

struct World {
  World() : pool(2) {
    BlockingPool::Install(&pool);
    dir = std::filesystem::temp_directory_path() / ("poste-bench-auth-" + crypto::RandomToken(6));
    std::filesystem::create_directories(dir);
    db = db::Database::Open({(dir / "poste.db").string(), 4});
    db::Migrate(*db);
    user_id = db->WriteValue([](soci::session& s) {
      users::NewUser nu;
      nu.email = "bench@example.com";
      nu.name = "Bench";
      nu.password_hash = "not-used";
      nu.role = "admin";
      return users::store::Insert(s, nu, 1000);
    });
    tokens = std::make_unique<auth::TokenService>(*db, crypto::RandomBytes(32));
    guard = std::make_unique<auth::AuthGuard>(*db, *tokens);
    box = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(crypto::GenerateSecretKey()));
    credentials = std::make_unique<auth::CredentialsService>(*db, *tokens, *box);
    web::Principal admin;
    admin.user_id = user_id;
    admin.admin = true;
    access_token = tokens->IssueAccess(user_id, 0);
    api_key = credentials->CreateApiKey(admin, {}, "bench", {}, std::nullopt, {}).secret;

    auto handler = [](web::RequestContext& ctx) -> web::Task<web::Response> {
      co_return web::Response::Json(ctx.principal ? 200 : 401, "{}");
    };
    auto root = router.Root();
    root.Get("/plain", handler);
    root.Get("/authed", handler, {}, {guard->Authenticate()});
    // No auth, but one trip through the blocking pool, as the API key path makes: separates the hop from the lookup.
    root.Get("/hop", [](web::RequestContext&) -> web::Task<web::Response> {
      int v = co_await blocking([] { return 200; });
      co_return web::Response::Json(v, "{}");
    });
    pipeline = std::make_unique<http::Pipeline>(router, http::PipelineOptions{1 << 20, {}, false, false}, nullptr);
  }
  ~World() {
    pool.WaitIdle(std::chrono::seconds(30));
    pipeline.reset();
    guard.reset();
    db.reset();
    std::filesystem::remove_all(dir);
  }

  // One request through the pipeline on the reused io_context.
  int Call(const char* path, const std::string* bearer) {
    web::Request r;
    r.method = "GET";
    r.target = path;
    r.path = path;
    if (bearer) r.headers.Add("Authorization", "Bearer " + *bearer);
    int status = 0;
    boost::asio::co_spawn(ioc, pipeline->Handle(r), [&](std::exception_ptr e, web::Response response) {
      if (e) std::rethrow_exception(e);
      status = response.status;
    });
    ioc.restart();
    ioc.run();
    return status;
  }

  BlockingPool pool;
  std::filesystem::path dir;
  std::unique_ptr<db::Database> db;
  std::int64_t user_id = 0;
  std::unique_ptr<auth::TokenService> tokens;
  std::unique_ptr<auth::AuthGuard> guard;
  std::unique_ptr<crypto::SecretBox> box;
  std::unique_ptr<auth::CredentialsService> credentials;
  std::string access_token;
  std::string api_key;
  web::Router router;
  std::unique_ptr<http::Pipeline> pipeline;
  boost::asio::io_context ioc;
};

World& W() {
  static World world;
  return world;
}

void Expect(benchmark::State& state, int status, int want) {
  if (status != want) state.SkipWithError(("status " + std::to_string(status)).c_str());
}

// The reference: the same request, no authentication middleware, no credential.
void BM_Pipeline_NoAuth(benchmark::State& state) {
  auto& w = W();
  Expect(state, w.Call("/plain", nullptr), 401);  // the handler sees no principal
  for (auto _ : state) benchmark::DoNotOptimize(w.Call("/plain", nullptr));
}
BENCHMARK(BM_Pipeline_NoAuth);

// The reference with the Authorization header present (parsing it is part of any request that carries one).
void BM_Pipeline_NoAuth_WithHeader(benchmark::State& state) {
  auto& w = W();
  for (auto _ : state) benchmark::DoNotOptimize(w.Call("/plain", &w.access_token));
}
BENCHMARK(BM_Pipeline_NoAuth_WithHeader);

// A valid access token: HS256 signature, claims, the user's auth state from the cache.
void BM_Pipeline_Jwt(benchmark::State& state) {
  auto& w = W();
  Expect(state, w.Call("/authed", &w.access_token), 200);
  for (auto _ : state) benchmark::DoNotOptimize(w.Call("/authed", &w.access_token));
}
BENCHMARK(BM_Pipeline_Jwt);

// A personal API key: SHA-256 of the key, lookup, through the blocking pool (a thread hop per request).
void BM_Pipeline_ApiKey(benchmark::State& state) {
  auto& w = W();
  Expect(state, w.Call("/authed", &w.api_key), 200);
  for (auto _ : state) benchmark::DoNotOptimize(w.Call("/authed", &w.api_key));
}
BENCHMARK(BM_Pipeline_ApiKey)->UseRealTime();

// The reference plus one blocking-pool round trip and no auth: the thread hop the API key path pays.
void BM_Pipeline_BlockingHop(benchmark::State& state) {
  auto& w = W();
  Expect(state, w.Call("/hop", nullptr), 200);
  for (auto _ : state) benchmark::DoNotOptimize(w.Call("/hop", nullptr));
}
BENCHMARK(BM_Pipeline_BlockingHop)->UseRealTime();

// The parts, without the pipeline.
void BM_VerifyAccess(benchmark::State& state) {
  auto& w = W();
  for (auto _ : state) benchmark::DoNotOptimize(w.tokens->VerifyAccess(w.access_token));
}
BENCHMARK(BM_VerifyAccess);

void BM_CachedFacts(benchmark::State& state) {
  auto& w = W();
  w.guard->Facts(w.user_id);
  for (auto _ : state) benchmark::DoNotOptimize(w.guard->CachedFacts(w.user_id));
}
BENCHMARK(BM_CachedFacts);

void BM_FromAccessToken(benchmark::State& state) {
  auto& w = W();
  for (auto _ : state) benchmark::DoNotOptimize(w.guard->FromAccessToken(w.access_token));
}
BENCHMARK(BM_FromAccessToken);

void BM_FromApiKey(benchmark::State& state) {
  auto& w = W();
  if (!w.guard->FromApiKey(w.api_key)) state.SkipWithError("api key refused");
  for (auto _ : state) benchmark::DoNotOptimize(w.guard->FromApiKey(w.api_key));
}
BENCHMARK(BM_FromApiKey);

}  // namespace

BENCHMARK_MAIN();

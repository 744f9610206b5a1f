#pragma once
// Shared by the auth module's tests: a database with users, a controllable clock, and the services.
#include <soci/soci.h>

#include <memory>
#include <string>
#include <vector>

#include "lib/crypto/password.hpp"
#include "lib/crypto/secret_box.hpp"
#include "lib/ratelimit/memory_backoff.hpp"
#include "modules/auth/credentials_service.hpp"
#include "modules/auth/login_service.hpp"
#include "modules/auth/token_service.hpp"
#include "modules/users/users_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::auth::testing {

// Cheap argon2id parameters: the tests hash many passwords.
inline crypto::PasswordParams FastParams() { return {1, 8 * 1024}; }
inline const std::string kKey = std::string(32, 'k');

class AuthDbTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    box_ = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(crypto::GenerateSecretKey()));
    tokens_ = std::make_unique<TokenService>(db(), kKey, TokenOptions{}, [this] { return wall_ms; });
    backoff_ = std::make_unique<ratelimit::MemoryBackoff>();
    login_ = std::make_unique<LoginService>(db(), *tokens_, *box_, *backoff_, *backoff_, FastParams(),
                                            [this] { return steady_ms; });
    credentials_ = std::make_unique<CredentialsService>(db(), *tokens_, *box_);
  }

  std::int64_t AddUser(const std::string& email, const std::string& password, std::string role = "editor",
                       bool active = true, crypto::PasswordParams params = FastParams()) {
    users::NewUser u;
    u.email = email;
    u.name = "User " + email;
    u.password_hash = crypto::HashPassword(password, params);
    u.role = std::move(role);
    u.active = active;
    return db().WriteValue([&](soci::session& s) { return users::store::Insert(s, u, wall_ms); });
  }

  users::UserAuth Auth(std::int64_t id) {
    return *db().ReadValue([&](soci::session& s) { return users::store::GetAuthById(s, id); });
  }

  LoginRequest Req(std::string email, std::string password, std::optional<std::string> totp = std::nullopt,
                   std::string ip = "203.0.113.7") {
    return {std::move(email), std::move(password), std::move(totp), {std::move(ip), "test", "test-request"}};
  }

  std::int64_t wall_ms = 1'700'000'000'000;
  std::int64_t steady_ms = 1'000'000;
  std::unique_ptr<crypto::SecretBox> box_;
  std::unique_ptr<TokenService> tokens_;
  std::unique_ptr<ratelimit::MemoryBackoff> backoff_;
  std::unique_ptr<LoginService> login_;
  std::unique_ptr<CredentialsService> credentials_;
};

}  // namespace poste::auth::testing

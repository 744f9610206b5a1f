#pragma once
// Test helpers for the inbox against the test services' Dovecot: a folder of its own per test (created with
// IMAP CREATE, deleted afterwards, so tests never see each other's mail on the shared mailbox), delivery
// with dovecot-lda into that folder, and the IMAP client settings.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>

#include "lib/mail/imap_client.hpp"

namespace poste::inbox::testing {

inline std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The JSON body that adds an inbox account reading `mailbox` of the test Dovecot (POST /api/v1/inbox/accounts).
inline nlohmann::json DovecotAccountBody(const std::string& mailbox) {
  return {{"name", "Support"},
          {"host", Env("POSTE_TEST_IMAP_HOST")},
          {"port", std::atoi(Env("POSTE_TEST_IMAP_PORT").c_str())},
          {"tls", "none"},
          {"username", Env("POSTE_TEST_IMAP_USER")},
          {"password", Env("POSTE_TEST_IMAP_PASSWORD")},
          {"mailbox", mailbox}};
}

inline mail::imap::ClientConfig DovecotClient() {
  mail::imap::ClientConfig c;
  c.host = Env("POSTE_TEST_IMAP_HOST");
  c.port = std::atoi(Env("POSTE_TEST_IMAP_PORT").c_str());
  c.tls = mail::imap::Tls::kNone;
  c.username = Env("POSTE_TEST_IMAP_USER");
  c.password = Env("POSTE_TEST_IMAP_PASSWORD");
  c.policy = net::TargetPolicy::WithAllowList({"127.0.0.1"});
  return c;
}

inline std::string UniqueFolder(const std::string& prefix) {
  std::random_device rd;
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd()) + std::to_string(rd() % 1000);
}

// A folder of the test mailbox, created now and deleted with this object.
class DovecotFolder {
 public:
  explicit DovecotFolder(const std::string& prefix) : name_(UniqueFolder(prefix)) {
    if (Env("POSTE_TEST_IMAP_PORT").empty() || Env("POSTE_TEST_DOVECOT_CONF").empty()) {
      ADD_FAILURE() << "the Dovecot of scripts/test-services is not configured: source its environment "
                       "(POSTE_TEST_IMAP_*, POSTE_TEST_DOVECOT_CONF)";
      return;
    }
    mail::imap::Client client(DovecotClient());
    client.Connect();
    try {
      client.Create(name_);
    } catch (const std::exception& e) {
      // Under parallel tests Dovecot has answered ALREADYEXISTS for a new, unique name (its mailbox list
      // was being rewritten by another session): the folder is there, which is what the test needs.
      if (std::string(e.what()).find("ALREADYEXISTS") == std::string::npos) throw;
    }
    client.Logout();
  }
  ~DovecotFolder() {
    try {
      mail::imap::Client client(DovecotClient());
      client.Connect();
      client.Delete(name_);
      client.Logout();
    } catch (const std::exception&) {
      // Already gone (a test that recreates it).
    }
  }
  const std::string& name() const { return name_; }

  // Deletes and creates the folder again: Dovecot gives it a new UIDVALIDITY.
  // Dovecot may still report the name as existing just after DELETE (another session had it selected): the
  // CREATE is tried again for a moment.
  void Recreate() {
    mail::imap::Client client(DovecotClient());
    client.Connect();
    client.Delete(name_);
    for (int attempt = 0;; ++attempt) {
      try {
        client.Create(name_);
        break;
      } catch (const std::exception& e) {
        if (attempt >= 40 || std::string(e.what()).find("ALREADYEXISTS") == std::string::npos) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    client.Logout();
  }

  // Delivers `message` into the folder with dovecot-lda, as the MTA of a real installation would.
  void Deliver(const std::string& message) {
    const std::string command = "/usr/lib/dovecot/dovecot-lda -c '" + Env("POSTE_TEST_DOVECOT_CONF") + "' -d '" +
                                Env("POSTE_TEST_IMAP_USER") + "' -m '" + name_ + "' -f sender@example.com";
    FILE* pipe = ::popen(command.c_str(), "w");
    ASSERT_NE(pipe, nullptr);
    std::fwrite(message.data(), 1, message.size(), pipe);
    const int status = ::pclose(pipe);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "dovecot-lda failed: " << status;
  }

  // The message's flags on the server.
  std::vector<std::string> Flags(std::uint32_t uid) {
    mail::imap::Client client(DovecotClient());
    client.Connect();
    client.Examine(name_);
    auto m = client.FetchHeader(uid);
    client.Logout();
    return m ? m->flags : std::vector<std::string>{};
  }

 private:
  std::string name_;
};

}  // namespace poste::inbox::testing

#pragma once
// Tests only: the messages that the SMTP capture server of scripts/test-services (scripts/smtp-capture.py)
// saved to POSTE_TEST_SMTP_CAPTURE_DIR. The server and its folder are shared by every test (and every test
// process), so a test finds its own messages by a token it put in them (or in their recipients' addresses).
//
// The server saves each message as NNNNNNNN-<uuid>.json (the envelope: mail_from, rcpt_tos, auth_mechanism,
// auth_user, auth_token, port, tls...) then NNNNNNNN-<uuid>.eml (the bytes), each renamed into place, the
// .json first: a visible .eml always has its envelope. Names sort by arrival within one run of the server.
//
// The folder holds thousands of messages after a full test run, so one index per process and folder
// remembers every message it has listed: a poll lists the folder but reads only messages it has not looked
// at yet, reads each .eml and .json at most once (on demand: a search by recipient reads the .eml of the
// matches only), and skips the messages written before this process started (none can hold its tokens).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

namespace poste::mail::testing {

struct CapturedMessage {
  std::string name;         // NNNNNNNN-<uuid>, the files' name without extension
  nlohmann::json envelope;  // the .json (discarded if it does not parse)
  std::string eml;          // the message bytes as received
};

namespace capture_detail {

// When this process started (set while it loads, before any test sends a message).
inline const std::filesystem::file_time_type kProcessStarted = std::filesystem::file_time_type::clock::now();

inline std::string ReadWhole(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every message of one folder this process has listed, in arrival order, each file read at most once.
class Folder {
 public:
  struct File {
    std::string name;
    std::optional<std::string> eml;
    std::optional<nlohmann::json> envelope;
  };

  explicit Folder(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // The index of `dir`, shared by every SmtpCapture of this process.
  static Folder& Of(const std::filesystem::path& dir) {
    static std::mutex mutex;
    static std::map<std::string, std::unique_ptr<Folder>> folders;
    std::lock_guard lock(mutex);
    auto& f = folders[dir.string()];
    if (!f) f = std::make_unique<Folder>(dir);
    return *f;
  }

  // Lists the folder for messages not seen yet, then appends to `out` those from position `next` on that
  // `keep` accepts, and moves `next` past them. False (with a test failure) if the folder cannot be listed.
  bool Collect(std::size_t& next, const std::function<bool(Folder&, File&)>& keep, std::vector<CapturedMessage>& out) {
    std::lock_guard lock(mutex_);
    if (!Refresh()) return false;
    for (; next < files_.size(); ++next) {
      File& f = files_[next];
      if (keep(*this, f)) out.push_back({f.name, Envelope(f), Eml(f)});
    }
    return true;
  }

  const std::string& Eml(File& f) {
    if (!f.eml) f.eml = ReadWhole(dir_ / (f.name + ".eml"));
    return *f.eml;
  }

  const nlohmann::json& Envelope(File& f) {
    if (!f.envelope) f.envelope = nlohmann::json::parse(ReadWhole(dir_ / (f.name + ".json")), nullptr, false);
    return *f.envelope;
  }

 private:
  bool Refresh() {
    std::error_code error;
    std::vector<std::string> fresh;
    // A little slack: file times come from the kernel's coarse clock.
    const auto since = kProcessStarted - std::chrono::seconds(2);
    for (std::filesystem::directory_iterator it(dir_, error), end; !error && it != end; it.increment(error)) {
      if (it->path().extension() != ".eml") continue;  // the .json comes first; temp files end in .tmp
      std::string name = it->path().stem().string();
      // A set rather than the highest name seen: names start again from 00000001 if the server restarts.
      if (!seen_.insert(name).second) continue;
      std::error_code stat_error;
      const auto written = it->last_write_time(stat_error);
      if (stat_error || written < since) continue;  // gone, or older than this process: never read
      fresh.push_back(std::move(name));
    }
    if (error) {
      ADD_FAILURE() << "cannot list the SMTP capture folder " << dir_ << ": " << error.message();
      return false;
    }
    std::sort(fresh.begin(), fresh.end());  // arrival order
    for (auto& name : fresh) files_.push_back({std::move(name), std::nullopt, std::nullopt});
    return true;
  }

  std::filesystem::path dir_;
  std::mutex mutex_;
  std::vector<File> files_;
  std::unordered_set<std::string> seen_;
};

}  // namespace capture_detail

// The capture folder named by POSTE_TEST_SMTP_CAPTURE_DIR (a test failure when it is not set). Cheap to make:
// the index behind it is shared by the whole process.
class SmtpCapture {
 public:
  SmtpCapture() {
    const char* dir = std::getenv("POSTE_TEST_SMTP_CAPTURE_DIR");
    if (dir == nullptr || *dir == '\0') {
      ADD_FAILURE() << "POSTE_TEST_SMTP_CAPTURE_DIR is not set: source /tmp/svc.env (scripts/test-services) first";
      return;
    }
    folder_ = &capture_detail::Folder::Of(dir);
  }

  // The messages whose .eml contains `token`, in arrival order, once `at_least` of them arrived or after
  // `wait` (polling every 50 ms; one look when `at_least` is 0 or `wait` is 0).
  std::vector<CapturedMessage> Matching(std::string_view token, std::size_t at_least = 1,
                                        std::chrono::milliseconds wait = std::chrono::seconds(5)) const {
    return Poll([token](capture_detail::Folder& folder,
                        capture_detail::Folder::File& f) { return folder.Eml(f).find(token) != std::string::npos; },
                at_least, wait);
  }

  // The messages with a recipient (the envelope's rcpt_tos) containing `part`, in arrival order; only their
  // .eml are read. Waits like Matching, by default not at all.
  std::vector<CapturedMessage> ToRecipient(std::string_view part, std::size_t at_least = 0,
                                           std::chrono::milliseconds wait = std::chrono::milliseconds(0)) const {
    return Poll(
        [part](capture_detail::Folder& folder, capture_detail::Folder::File& f) {
          const auto& envelope = folder.Envelope(f);
          if (!envelope.is_object() || !envelope.contains("rcpt_tos") || !envelope["rcpt_tos"].is_array()) {
            return false;
          }
          return std::any_of(envelope["rcpt_tos"].begin(), envelope["rcpt_tos"].end(), [part](const auto& rcpt) {
            return rcpt.is_string() && rcpt.template get<std::string>().find(part) != std::string::npos;
          });
        },
        at_least, wait);
  }

  // The first message holding `token`, waiting up to `wait` for it; if none arrived, an empty one (no name, a
  // null envelope, no bytes).
  CapturedMessage First(std::string_view token, std::chrono::milliseconds wait = std::chrono::seconds(5)) const {
    auto found = Matching(token, 1, wait);
    return found.empty() ? CapturedMessage{} : std::move(found.front());
  }

  // How many messages hold `token` now (no waiting).
  std::size_t Count(std::string_view token) const { return Matching(token, 0, std::chrono::milliseconds(0)).size(); }

 private:
  using Keep = std::function<bool(capture_detail::Folder&, capture_detail::Folder::File&)>;

  std::vector<CapturedMessage> Poll(const Keep& keep, std::size_t at_least, std::chrono::milliseconds wait) const {
    std::vector<CapturedMessage> found;
    if (folder_ == nullptr) return found;  // the constructor failed the test already
    const auto deadline = std::chrono::steady_clock::now() + wait;
    std::size_t next = 0;  // each poll looks only at the messages after the ones the last poll saw
    for (;;) {
      if (!folder_->Collect(next, keep, found)) return found;
      if (found.size() >= at_least || std::chrono::steady_clock::now() >= deadline) return found;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  capture_detail::Folder* folder_ = nullptr;
};

}  // namespace poste::mail::testing

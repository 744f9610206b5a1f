#include "lib/crypto/master_key.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <system_error>

#include "lib/crypto/crypto_error.hpp"
#include "lib/crypto/encoding.hpp"
#include "lib/crypto/random.hpp"

namespace poste::crypto {

namespace {

constexpr const char* kHowToGenerate = "generate one with: openssl rand -base64 32";
// A key file is 45 bytes; anything much larger is not one, and is not read into memory.
constexpr off_t kMaxKeyFileSize = 256;

std::string_view TrimAsciiSpace(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string Describe(const std::filesystem::path& path, std::string_view problem) {
  return "master key file " + path.string() + ": " + std::string(problem);
}

// std::strerror is not thread-safe; the error_code message is.
std::string Errno(std::string_view what) {
  return std::string(what) + ": " + std::error_code(errno, std::generic_category()).message();
}

// Closes a file descriptor on every exit path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Opens and validates an existing key file; nullopt when it does not exist.
std::optional<SecretKey> ReadKeyFile(const std::filesystem::path& path) {
  // O_NONBLOCK: a FIFO put where the key should be must fail the regular-file check below, not hang start-up.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw CryptoError(Describe(path, Errno("cannot open")));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw CryptoError(Describe(path, Errno("cannot stat")));
  if (!S_ISREG(st.st_mode)) throw CryptoError(Describe(path, "is not a regular file"));
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw CryptoError(Describe(path, std::string("group or others may access it (mode ") + mode +
                                         "); restrict it with: chmod 600 " + path.string()));
  }
  if (st.st_size == 0) throw CryptoError(Describe(path, "is empty; delete it to create a new key, or restore it"));
  if (st.st_size > kMaxKeyFileSize) {
    throw CryptoError(Describe(path, "is " + std::to_string(st.st_size) +
                                         " bytes, too large to be a key file (expected 44 base64 characters)"));
  }
  std::string content(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t have = 0;
  while (have < content.size()) {
    ssize_t n = ::read(fd.get(), content.data() + have, content.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw CryptoError(Describe(path, Errno("cannot read")));
    if (n == 0) break;
    have += static_cast<std::size_t>(n);
  }
  content.resize(have);
  try {
    return ParseMasterKey(content);
  } catch (const CryptoError& e) {
    throw CryptoError(Describe(path, e.what()));
  }
}

void WriteAll(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw CryptoError(Describe(path, Errno("cannot write")));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Makes a completed rename or link durable: without it a power cut can lose the new directory entry.
void SyncDirectory(const std::filesystem::path& dir) {
  Fd fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) (void)::fsync(fd.get());
}

// Creates the key file with a new key; false when another process created it first.
bool CreateKeyFile(const std::filesystem::path& path, const SecretKey& key) {
  std::filesystem::path tmp = path;
  tmp += ".tmp-" + HexEncode(RandomBytes(8));
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.get() < 0) throw CryptoError(Describe(path, Errno("cannot create")));
    try {
      // The umask can only clear bits, but say 0600 explicitly rather than depend on it.
      if (::fchmod(fd.get(), 0600) != 0) throw CryptoError(Describe(path, Errno("cannot chmod")));
      WriteAll(fd.get(), FormatMasterKey(key) + "\n", path);
      if (::fsync(fd.get()) != 0) throw CryptoError(Describe(path, Errno("cannot fsync")));
    } catch (...) {
      ::unlink(tmp.c_str());
      throw;
    }
  }
  // link(2), unlike rename(2), fails when the target exists: a key file that appeared meanwhile is kept.
  int linked = ::link(tmp.c_str(), path.c_str());
  int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0) {
    if (link_errno == EEXIST) return false;
    errno = link_errno;
    throw CryptoError(Describe(path, Errno("cannot create")));
  }
  SyncDirectory(path.parent_path());
  return true;
}

}  // namespace

SecretKey ParseMasterKey(std::string_view base64) {
  std::string_view text = TrimAsciiSpace(base64);
  if (text.empty()) throw CryptoError(std::string("master key is empty; ") + kHowToGenerate);
  auto bytes = Base64Decode(text);
  if (!bytes) throw CryptoError(std::string("master key is not valid base64; ") + kHowToGenerate);
  if (bytes->size() != SecretKey{}.size()) {
    throw CryptoError("master key decodes to " + std::to_string(bytes->size()) + " bytes, it must be exactly 32; " +
                      kHowToGenerate);
  }
  SecretKey key;
  std::copy(bytes->begin(), bytes->end(), key.begin());
  if (std::all_of(key.begin(), key.end(), [](uint8_t b) { return b == 0; })) {
    throw CryptoError(std::string("master key is all zero bytes, a placeholder; ") + kHowToGenerate);
  }
  return key;
}

std::string FormatMasterKey(const SecretKey& key) { return Base64Encode(AsStringView(key)); }

KeyFile LoadOrCreateKeyFile(const std::filesystem::path& path) {
  if (auto key = ReadKeyFile(path)) return {*key, false};
  SecretKey key = GenerateSecretKey();
  if (CreateKeyFile(path, key)) return {key, true};
  // Another process won the race to create it: use its key, which is now complete on disk.
  if (auto theirs = ReadKeyFile(path)) return {*theirs, false};
  throw CryptoError(Describe(path, "exists but cannot be opened (a dangling symlink?)"));
}

}  // namespace poste::crypto

#include "lib/crypto/master_key.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <vector>

#include "lib/crypto/crypto_error.hpp"
#include "lib/crypto/random.hpp"

namespace poste::crypto {
namespace {

namespace fs = std::filesystem;

template <typename Fn>
void ExpectCryptoError(Fn fn, std::string_view fragment) {
  try {
    fn();
    ADD_FAILURE() << "no CryptoError; expected one mentioning: " << fragment;
  } catch (const CryptoError& e) {
    EXPECT_NE(std::string_view(e.what()).find(fragment), std::string_view::npos) << e.what();
  }
}

class SecretBoxMasterKey : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("poste-key-test-" + RandomToken(8));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Write(const std::string& name, const std::string& content, mode_t mode) {
    fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }
  static mode_t ModeOf(const fs::path& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_mode & 07777;
  }

  fs::path dir_;
};

TEST_F(SecretBoxMasterKey, ParsesBase64Keys) {
  SecretKey key = GenerateSecretKey();
  std::string text = FormatMasterKey(key);
  EXPECT_EQ(text.size(), 44u);
  EXPECT_EQ(ParseMasterKey(text), key);
  EXPECT_EQ(ParseMasterKey("  " + text + "\r\n"), key);  // as pasted or read from a file
}

TEST_F(SecretBoxMasterKey, ExplainsWhatIsWrongWithABadKey) {
  std::string text = FormatMasterKey(GenerateSecretKey());
  ExpectCryptoError([] { ParseMasterKey(""); }, "empty");
  ExpectCryptoError([] { ParseMasterKey(" \n"); }, "empty");
  ExpectCryptoError([&] { ParseMasterKey(text.substr(1)); }, "not valid base64");
  ExpectCryptoError([&] { ParseMasterKey("not a key at all!"); }, "not valid base64");
  ExpectCryptoError([] { ParseMasterKey(FormatMasterKey({}).substr(0, 24)); }, "decodes to 18 bytes");
  ExpectCryptoError([] { ParseMasterKey(std::string(64, 'A')); }, "decodes to 48 bytes");
  ExpectCryptoError([] { ParseMasterKey(FormatMasterKey({})); }, "all zero");
  // The message never repeats the value it was given.
  try {
    ParseMasterKey(text + "x");
    ADD_FAILURE();
  } catch (const CryptoError& e) {
    EXPECT_EQ(std::string(e.what()).find(text.substr(0, 10)), std::string::npos) << e.what();
  }
}

TEST_F(SecretBoxMasterKey, CreatesTheKeyFileOnceWithMode0600) {
  fs::path path = dir_ / "master.key";
  KeyFile first = LoadOrCreateKeyFile(path);
  EXPECT_TRUE(first.created);
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(fs::file_size(path), 45u);  // 44 base64 characters and a newline
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(ParseMasterKey(line), first.key);

  KeyFile second = LoadOrCreateKeyFile(path);
  EXPECT_FALSE(second.created);
  EXPECT_EQ(second.key, first.key);
  // No temporary files are left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(SecretBoxMasterKey, ConcurrentFirstRunsAgreeOnOneKey) {
  fs::path path = dir_ / "master.key";
  std::vector<std::future<KeyFile>> runs;
  runs.reserve(4);
  for (int i = 0; i < 4; ++i) runs.push_back(std::async(std::launch::async, [&] { return LoadOrCreateKeyFile(path); }));
  std::vector<KeyFile> results;
  results.reserve(runs.size());
  for (auto& run : runs) results.push_back(run.get());
  int created = 0;
  for (const auto& r : results) {
    created += r.created;
    EXPECT_EQ(r.key, results[0].key);
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(LoadOrCreateKeyFile(path).key, results[0].key);
}

TEST_F(SecretBoxMasterKey, ReadsAKeyFileWrittenByHand) {
  SecretKey key = GenerateSecretKey();
  EXPECT_EQ(LoadOrCreateKeyFile(Write("a.key", FormatMasterKey(key), 0600)).key, key);
  EXPECT_EQ(LoadOrCreateKeyFile(Write("b.key", FormatMasterKey(key) + "\r\n", 0400)).key, key);
}

TEST_F(SecretBoxMasterKey, RefusesFilesOthersCanAccess) {
  std::string text = FormatMasterKey(GenerateSecretKey()) + "\n";
  ExpectCryptoError([&] { LoadOrCreateKeyFile(Write("g.key", text, 0640)); }, "mode 0640");
  ExpectCryptoError([&] { LoadOrCreateKeyFile(Write("o.key", text, 0604)); }, "chmod 600");
  ExpectCryptoError([&] { LoadOrCreateKeyFile(Write("w.key", text, 0620)); }, "group or others");
}

TEST_F(SecretBoxMasterKey, RefusesFilesThatAreNotKeys) {
  ExpectCryptoError([&] { LoadOrCreateKeyFile(Write("empty.key", "", 0600)); }, "is empty");
  ExpectCryptoError([&] { LoadOrCreateKeyFile(Write("raw.key", RandomBytes(32), 0600)); }, "master key");
  ExpectCryptoError([&] { LoadOrCreateKeyFile(Write("short.key", FormatMasterKey({1}).substr(0, 40), 0600)); },
                    "master key");
  ExpectCryptoError([&] { LoadOrCreateKeyFile(Write("big.key", std::string(4096, 'A'), 0600)); }, "too large");
  fs::create_directory(dir_ / "dir.key");
  ::chmod((dir_ / "dir.key").c_str(), 0700);
  ExpectCryptoError([&] { LoadOrCreateKeyFile(dir_ / "dir.key"); }, "not a regular file");
  ASSERT_EQ(::mkfifo((dir_ / "fifo.key").c_str(), 0600), 0);
  ExpectCryptoError([&] { LoadOrCreateKeyFile(dir_ / "fifo.key"); }, "not a regular file");  // and does not hang
  fs::create_symlink(dir_ / "nowhere", dir_ / "dangling.key");
  ExpectCryptoError([&] { LoadOrCreateKeyFile(dir_ / "dangling.key"); }, "dangling symlink");
  // The error names the file, so the admin knows which one to fix.
  ExpectCryptoError([&] { LoadOrCreateKeyFile(Write("named.key", "", 0600)); }, "named.key");
}

TEST_F(SecretBoxMasterKey, ReportsAMissingDirectory) {
  ExpectCryptoError([&] { LoadOrCreateKeyFile(dir_ / "no" / "such" / "master.key"); }, "cannot create");
}

}  // namespace
}  // namespace poste::crypto

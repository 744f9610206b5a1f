#include "modules/mail/outbox_transport.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lib/ids.hpp"

namespace poste::mail {
namespace {

class OutboxTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("poste-outbox-test-" + RandomHex(6)) / "7";
    message_.from = {"", "a@example.com"};
    message_.to = {{"", "b@example.com"}};
    message_.subject = "Hello";
    message_.text = "Body";
    built_ = BuildMessage(message_);
    delivery_.message = &message_;
    delivery_.built = &built_;
  }
  void TearDown() override { std::filesystem::remove_all(dir_.parent_path()); }
  static int Count(const std::filesystem::path& d) {
    int n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(d)) ++n;
    return n;
  }

  std::filesystem::path dir_;
  OutgoingMessage message_;
  BuiltMessage built_;
  Delivery delivery_;
};

TEST_F(OutboxTransportTest, WritesEachMessageIntoNewThroughTmp) {
  OutboxTransport outbox(dir_);
  EXPECT_EQ(outbox.Check().outcome, DeliveryOutcome::kSent);
  auto r = outbox.Send(delivery_);
  ASSERT_EQ(r.outcome, DeliveryOutcome::kSent) << r.answer;
  EXPECT_TRUE(r.provider_message_id.ends_with(".eml"));
  std::ifstream in(dir_ / "new" / r.provider_message_id, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  EXPECT_EQ(bytes.str(), built_.bytes);
  EXPECT_EQ(Count(dir_ / "tmp"), 0);
  auto second = outbox.Send(delivery_);
  EXPECT_NE(second.provider_message_id, r.provider_message_id);
  EXPECT_EQ(Count(dir_ / "new"), 2);
}

TEST_F(OutboxTransportTest, AWithdrawnDeliveryLeavesNothing) {
  OutboxTransport outbox(dir_);
  int calls = 0;
  delivery_.on_commit = [&] { return ++calls, false; };
  EXPECT_EQ(outbox.Send(delivery_).outcome, DeliveryOutcome::kTemporary);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(Count(dir_ / "new"), 0);
  EXPECT_EQ(Count(dir_ / "tmp"), 0);
}

TEST_F(OutboxTransportTest, AnUnwritableFolderIsTemporary) {
  std::filesystem::create_directories(dir_.parent_path());
  std::ofstream(dir_) << "a file where the folder should be";
  OutboxTransport outbox(dir_);
  EXPECT_EQ(outbox.Check().outcome, DeliveryOutcome::kTemporary);
  EXPECT_EQ(outbox.Send(delivery_).outcome, DeliveryOutcome::kTemporary);
}

}  // namespace
}  // namespace poste::mail

#include "modules/webhooks/webhook_events.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <stdexcept>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "support/db_fixture.hpp"

namespace poste::webhooks {
namespace {

class WebhookEventsTest : public testing::DbTest {};

TEST_P(WebhookEventsTest, AnEventIsAJobCommittedWithTheChange) {
  jobs::JobQueue queue(db(), [] { return std::int64_t{1'700'000'000'000}; });
  db().Write([&](soci::session& s) { EmitIn(queue, s, 7, "entry.published", {{"entry_id", 3}}); });
  // Rolled back with its transaction: no job.
  EXPECT_THROW(db().Write([&](soci::session& s) {
    EmitIn(queue, s, 7, "entry.deleted", {{"entry_id", 3}});
    throw std::runtime_error("the change failed");
  }),
               std::runtime_error);
  auto job = queue.Claim("w", 60'000, {std::string(kEventJobKind)});
  ASSERT_TRUE(job.has_value());
  auto event = nlohmann::json::parse(job->payload);
  EXPECT_EQ(event["type"], "entry.published");
  EXPECT_EQ(event["site_id"], 7);
  EXPECT_EQ(event["occurred_at"], 1'700'000'000'000);
  EXPECT_EQ(event["data"]["entry_id"], 3);
  EXPECT_TRUE(event["id"].get<std::string>().starts_with("evt_"));
  EXPECT_FALSE(queue.Claim("w", 60'000, {std::string(kEventJobKind)}).has_value()) << "the rolled-back event ran";
}

TEST_P(WebhookEventsTest, UnknownTypesAreRefused) {
  jobs::JobQueue queue(db());
  EXPECT_FALSE(IsEventType("entry.exploded"));
  EXPECT_TRUE(IsEventType("contact.received"));
  EXPECT_THROW(db().Write([&](soci::session& s) { EmitIn(queue, s, 1, "entry.exploded", {}); }), std::invalid_argument);
}

POSTE_INSTANTIATE_DB_TEST(WebhookEventsTest);

}  // namespace
}  // namespace poste::webhooks

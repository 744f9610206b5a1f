#pragma once
// Campaigns: one message personalised for each of many recipients, sent in batches by jobs that record
// every recipient's outcome, so a restart resumes where the last one stopped and nobody gets two.
//
// Campaign states: draft -> (scheduled ->) running <-> paused -> finished | cancelled.
// Recipient states: pending -> claimed (by one batch job) -> sent | failed | skipped (suppressed), and back
// to pending after a temporary failure or when the campaign is paused.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/error.hpp"

namespace poste::mail {

inline constexpr std::string_view kCampaignBatchJobKind = "mail.campaign.batch";
inline constexpr std::string_view kCampaignStartJobKind = "mail.campaign.start";
inline constexpr int kMaxCampaignParallel = 16;  // SMTP connections (batch jobs) at once per campaign
inline constexpr int kDefaultCampaignParallel = 4;
inline constexpr int kMaxRecipientAttempts = 5;  // temporary failures before a recipient fails
inline constexpr int kPauseAfterErrors = 20;     // consecutive failures that pause a campaign
inline constexpr std::size_t kMaxCampaignRecipients = 100'000;

enum class CampaignState { kDraft, kScheduled, kRunning, kPaused, kFinished, kCancelled };
std::string_view CampaignStateName(CampaignState state);
std::optional<CampaignState> ParseCampaignState(std::string_view name);

enum class RecipientState { kPending, kClaimed, kSent, kFailed, kSkipped };
std::string_view RecipientStateName(RecipientState state);
std::optional<RecipientState> ParseRecipientState(std::string_view name);

struct RecipientCounts {
  std::int64_t total = 0, pending = 0, sending = 0, sent = 0, failed = 0, skipped = 0;
};

struct Campaign {
  std::int64_t id = 0;
  std::int64_t site_id = 0;
  std::string name;
  std::optional<std::int64_t> account_id;   // none: the site's default account
  std::optional<std::int64_t> template_id;  // its subject, html and text are copied in when the campaign starts
  std::string subject, html, text;          // Mustache; text empty: derived from the HTML
  CampaignState state = CampaignState::kDraft;
  std::optional<std::int64_t> send_at;  // scheduled start, epoch ms
  int parallel = kDefaultCampaignParallel;
  int run = 0;  // bumped when lanes are queued (start, resume): a batch job of an older run stops
  std::string paused_reason;
  std::optional<std::int64_t> created_by;
  std::int64_t created_at = 0, updated_at = 0;
  std::optional<std::int64_t> started_at, finished_at;
  RecipientCounts counts;  // filled by reads
};

struct CampaignRecipient {
  std::int64_t id = 0;
  std::int64_t campaign_id = 0;
  std::int64_t site_id = 0;
  std::int64_t line = 0;  // its line in the uploaded CSV (0: added another way)
  std::string email, name;
  nlohmann::json variables = nlohmann::json::object();  // {name: text}
  RecipientState state = RecipientState::kPending;
  int attempts = 0;
  std::string message_id, provider_id, last_error;
  std::optional<std::int64_t> sent_at;
};

struct CampaignInput {
  std::optional<std::string> name;
  std::optional<std::optional<std::int64_t>> account_id;
  std::optional<std::optional<std::int64_t>> template_id;
  std::optional<std::string> subject, html, text;
  std::optional<int> parallel;
};

// The JSON body of a create or update; field errors for what does not fit (Mustache syntax is checked by
// the service).
CampaignInput ParseCampaignInput(const nlohmann::json& body, bool creating);

nlohmann::json ToJson(const Campaign& campaign, bool full);
nlohmann::json ToJson(const CampaignRecipient& recipient);

}  // namespace poste::mail

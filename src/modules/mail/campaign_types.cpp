#include "modules/mail/campaign_types.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "lib/validate/text.hpp"

namespace poste::mail {
namespace {

constexpr std::array<std::pair<CampaignState, std::string_view>, 6> kCampaignStates = {{
    {CampaignState::kDraft, "draft"},
    {CampaignState::kScheduled, "scheduled"},
    {CampaignState::kRunning, "running"},
    {CampaignState::kPaused, "paused"},
    {CampaignState::kFinished, "finished"},
    {CampaignState::kCancelled, "cancelled"},
}};
constexpr std::array<std::pair<RecipientState, std::string_view>, 5> kRecipientStates = {{
    {RecipientState::kPending, "pending"},
    {RecipientState::kClaimed, "claimed"},
    {RecipientState::kSent, "sent"},
    {RecipientState::kFailed, "failed"},
    {RecipientState::kSkipped, "skipped"},
}};

template <class E, std::size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& names, E value) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return names[0].second;
}
template <class E, std::size_t N>
std::optional<E> Parse(const std::array<std::pair<E, std::string_view>, N>& names, std::string_view text) {
  for (const auto& [v, name] : names) {
    if (name == text) return v;
  }
  return std::nullopt;
}

constexpr std::size_t kMaxName = 200;
constexpr std::size_t kMaxSubject = 900;
constexpr std::size_t kMaxBody = 2u << 20;

nlohmann::json Opt(const std::optional<std::int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

}  // namespace

std::string_view CampaignStateName(CampaignState state) { return NameOf(kCampaignStates, state); }
std::optional<CampaignState> ParseCampaignState(std::string_view name) { return Parse(kCampaignStates, name); }
std::string_view RecipientStateName(RecipientState state) { return NameOf(kRecipientStates, state); }
std::optional<RecipientState> ParseRecipientState(std::string_view name) { return Parse(kRecipientStates, name); }

CampaignInput ParseCampaignInput(const nlohmann::json& body, bool creating) {
  if (!body.is_object()) throw AppError::Validation({{"", "invalid_type", "the body must be a JSON object"}});
  std::vector<FieldError> errors;
  CampaignInput in;
  static constexpr std::array<std::string_view, 7> kKnown = {"name", "account_id", "template_id", "subject",
                                                             "html", "text",       "parallel"};
  for (const auto& [key, value] : body.items()) {
    if (std::find(kKnown.begin(), kKnown.end(), key) == kKnown.end()) {
      errors.push_back({key, "unknown", "not a field of a campaign"});
    }
  }
  auto text = [&](const char* key, std::size_t max, bool one_line) -> std::optional<std::string> {
    auto it = body.find(key);
    if (it == body.end()) return std::nullopt;
    if (!it->is_string()) {
      errors.push_back({key, "invalid_type", "must be a string"});
      return std::nullopt;
    }
    const auto& s = it->get_ref<const std::string&>();
    if (!validate::IsValidUtf8(s)) {
      errors.push_back({key, "invalid_utf8", "must be UTF-8"});
    } else if (s.size() > max) {
      errors.push_back({key, "too_long", "at most " + std::to_string(max) + " bytes"});
    } else if (one_line && s.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      errors.push_back({key, "header_injection", "must not contain line breaks"});
    } else {
      return s;
    }
    return std::nullopt;
  };
  auto id = [&](const char* key) -> std::optional<std::optional<std::int64_t>> {
    auto it = body.find(key);
    if (it == body.end()) return std::nullopt;
    if (it->is_null()) return std::optional<std::int64_t>();
    if (!it->is_number_integer() || it->get<std::int64_t>() <= 0) {
      errors.push_back({key, "invalid_type", "must be an id or null"});
      return std::nullopt;
    }
    return std::optional<std::int64_t>(it->get<std::int64_t>());
  };
  in.name = text("name", kMaxName, true);
  if (in.name && in.name->empty()) errors.push_back({"name", "required", "must not be empty"});
  if (creating && !body.contains("name")) errors.push_back({"name", "required", "a name for the campaign"});
  in.subject = text("subject", kMaxSubject, true);
  in.html = text("html", kMaxBody, false);
  in.text = text("text", kMaxBody, false);
  in.account_id = id("account_id");
  in.template_id = id("template_id");
  if (auto it = body.find("parallel"); it != body.end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > kMaxCampaignParallel) {
      errors.push_back({"parallel", "out_of_range", "1 to " + std::to_string(kMaxCampaignParallel)});
    } else {
      in.parallel = it->get<int>();
    }
  }
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  return in;
}

nlohmann::json ToJson(const Campaign& c, bool full) {
  nlohmann::json j = {{"id", c.id},
                      {"name", c.name},
                      {"account_id", Opt(c.account_id)},
                      {"template_id", Opt(c.template_id)},
                      {"subject", c.subject},
                      {"state", CampaignStateName(c.state)},
                      {"send_at", Opt(c.send_at)},
                      {"parallel", c.parallel},
                      {"paused_reason", c.paused_reason},
                      {"created_by", Opt(c.created_by)},
                      {"created_at", c.created_at},
                      {"updated_at", c.updated_at},
                      {"started_at", Opt(c.started_at)},
                      {"finished_at", Opt(c.finished_at)},
                      {"counts",
                       {{"total", c.counts.total},
                        {"pending", c.counts.pending},
                        {"sending", c.counts.sending},
                        {"sent", c.counts.sent},
                        {"failed", c.counts.failed},
                        {"skipped", c.counts.skipped}}}};
  if (full) {
    j["html"] = c.html;
    j["text"] = c.text;
  }
  return j;
}

nlohmann::json ToJson(const CampaignRecipient& r) {
  return {{"id", r.id},
          {"line", r.line},
          {"email", r.email},
          {"name", r.name},
          {"variables", r.variables},
          {"state", RecipientStateName(r.state)},
          {"attempts", r.attempts},
          {"message_id", r.message_id},
          {"provider_message_id", r.provider_id},
          {"last_error", r.last_error},
          {"sent_at", Opt(r.sent_at)}};
}

}  // namespace poste::mail

#include "modules/mail/unsubscribe_service.hpp"

#include "lib/error.hpp"
#include "lib/mail/address.hpp"
#include "modules/mail/mail_suppression_service.hpp"

namespace poste::mail {

namespace {

AppError InvalidToken() { return AppError::NotFound("This unsubscribe link is not valid."); }

}  // namespace

UnsubscribeSite UnsubscribeSiteOf(const sites::Site& site, const std::optional<std::string>& public_url,
                                  const std::optional<std::string>& mailto) {
  UnsubscribeSite out;
  out.name = site.name;
  out.locale = site.locale;
  if (public_url && public_url->size() <= kMaxPublicUrlBytes && sites::ValidateUrl(*public_url, "url").empty() &&
      public_url->find_first_of("?#") == std::string::npos) {
    out.base_url = *public_url;
    while (out.base_url.ends_with('/')) out.base_url.pop_back();
  } else if (!site.domains.empty()) {
    out.base_url = "https://" + site.domains.front();
  }
  // A value that is not an address is ignored rather than written into every message's headers.
  if (mailto && IsValidAddress(NormalizeAddress(*mailto))) out.mailto = NormalizeAddress(*mailto);
  return out;
}

UnsubscribeService::UnsubscribeService(std::string key, MailSuppressionsService& suppressions,
                                       UnsubscribeOptions options)
    : key_(std::move(key)), suppressions_(suppressions), options_(std::move(options)) {}

std::string UnsubscribeService::Token(std::int64_t site_id, std::string_view email,
                                      std::optional<std::int64_t> campaign_id) const {
  auto address = SuppressionAddress(email);
  if (!address) throw AppError::Validation({{"email", "invalid_email", "must be an email address (local@domain)"}});
  if (site_id <= 0 || (campaign_id && *campaign_id <= 0)) {
    throw AppError::Internal("unsubscribe token asked for a non-positive id");
  }
  return SignUnsubscribeToken(key_, {site_id, std::move(*address), campaign_id});
}

std::optional<UnsubscribeClaims> UnsubscribeService::Verify(std::string_view token) const {
  return VerifyUnsubscribeToken(key_, token);
}

ListUnsubscribeLinks UnsubscribeService::LinksFor(std::int64_t site_id, std::string_view email,
                                                  std::optional<std::int64_t> campaign_id) {
  Token(site_id, email, campaign_id);  // a bad address is refused before the site is read
  return LinkerFor(site_id, campaign_id).For(email);
}

UnsubscribeLinker UnsubscribeService::LinkerFor(std::int64_t site_id, std::optional<std::int64_t> campaign_id) {
  auto site = options_.site ? options_.site(site_id) : std::nullopt;
  if (!site) throw AppError::NotFound("No such site.");
  if (site->base_url.empty()) {
    throw AppError::Conflict(
        "The site has no public address for unsubscribe links: give it a domain or the mail.public_url setting.",
        {{"domains", "required", "the site needs a domain (or the mail.public_url setting) for unsubscribe links"}});
  }
  UnsubscribeLinker linker;
  linker.service_ = this;
  linker.site_id_ = site_id;
  linker.campaign_id_ = campaign_id;
  linker.base_url_ = site->base_url;
  linker.mailto_ = site->mailto;
  return linker;
}

ListUnsubscribeLinks UnsubscribeLinker::For(std::string_view email) const {
  ListUnsubscribeLinks links;
  links.url = base_url_ + "/u/" + service_->Token(site_id_, email, campaign_id_);
  if (!mailto_.empty()) links.mailto = "mailto:" + mailto_ + "?subject=unsubscribe";
  return links;
}

UnsubscribeLanding UnsubscribeService::Land(std::string_view token) {
  auto claims = Verify(token);
  if (!claims) throw InvalidToken();
  auto site = options_.site ? options_.site(claims->site_id) : std::nullopt;
  if (!site) throw InvalidToken();  // the site was deleted since the message was sent
  return {std::move(*claims), std::move(*site), false};
}

UnsubscribeLanding UnsubscribeService::Open(std::string_view token) {
  auto landing = Land(token);
  landing.already = suppressions_.IsSuppressed(landing.claims.site_id, landing.claims.email);
  return landing;
}

UnsubscribeLanding UnsubscribeService::Unsubscribe(std::string_view token, std::string_view source) {
  auto landing = Land(token);
  auto result = suppressions_.Suppress(landing.claims.site_id, landing.claims.email, SuppressionReason::kUnsubscribe,
                                       {std::string(source), "", landing.claims.campaign_id, std::nullopt});
  landing.already = result.outcome == SuppressOutcome::kUnchanged;
  return landing;
}

}  // namespace poste::mail

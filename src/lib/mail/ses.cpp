#include "lib/mail/ses.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "lib/crypto/encoding.hpp"
#include "lib/json_dump.hpp"
#include "lib/mail/provider_http.hpp"
#include "lib/validate/ascii.hpp"

namespace poste::mail {

namespace {

namespace ascii = validate::ascii;
using nlohmann::json;

constexpr std::size_t kSesMaxRecipients = 50;  // SES's limit per message (To, Cc and Bcc together)

std::string StringField(const json& j, std::initializer_list<const char*> names) {
  if (!j.is_object()) return {};
  for (const char* name : names) {
    auto it = j.find(name);
    if (it != j.end() && it->is_string()) return it->get<std::string>();
  }
  return {};
}

struct SesError {
  std::string type;  // "MessageRejected", "TooManyRequestsException"...
  std::string message;
};

// AWS's JSON errors: the type in the X-Amzn-ErrorType header ("MessageRejected:http://internal...") or in
// the body's "__type" / "code" ("com.amazon.coral...#MessageRejected"), the text in "message".
SesError ErrorOf(const net::HttpResponse& response) {
  SesError error;
  json body = json::parse(response.body, nullptr, false);
  error.type = response.Header("x-amzn-errortype");
  if (error.type.empty()) error.type = StringField(body, {"__type", "code", "Code"});
  error.type = error.type.substr(0, error.type.find(':'));
  if (auto hash = error.type.rfind('#'); hash != std::string::npos) error.type.erase(0, hash + 1);
  error.message = StringField(body, {"message", "Message"});
  return error;
}

bool IsThrottling(std::string_view type) {
  return type == "TooManyRequestsException" || type == "ThrottlingException" || type == "Throttling" ||
         type == "RequestLimitExceeded" || type == "ServiceUnavailable" || type == "InternalFailure";
}

DeliveryResult ResultOfError(const net::HttpResponse& response) {
  DeliveryResult result;
  const SesError error = ErrorOf(response);
  result.outcome = OutcomeOfStatus(response.status);
  if (result.outcome == DeliveryOutcome::kSent) result.outcome = DeliveryOutcome::kTemporary;  // not a 2xx here
  if (IsThrottling(error.type)) result.outcome = DeliveryOutcome::kTemporary;
  if (!error.type.empty() || !error.message.empty()) {
    std::string text = error.type;
    if (!error.message.empty()) text += (text.empty() ? "" : ": ") + error.message;
    result.answer = HttpAnswer(response.status, text);
  } else {
    result.answer = HttpAnswer(response.status, response.body);
  }
  return result;
}

std::string Number(const json& j, const char* name) {
  if (!j.is_object() || !j.contains(name) || !j[name].is_number()) return "?";
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", j[name].get<double>());  // 50000.0 as "50000", 0.5 as "0.5"
  return text;
}

}  // namespace

std::string SesEndpoint(std::string_view region) {
  if (!IsValidAwsRegion(region)) return {};
  return "https://email." + std::string(region) + ".amazonaws.com";
}

std::string SesMessageIdHeader(std::string_view region, std::string_view message_id) {
  const bool plausible = !message_id.empty() && message_id.size() <= 200 &&
                         std::all_of(message_id.begin(), message_id.end(),
                                     [](char c) { return ascii::IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
  if (!plausible || !IsValidAwsRegion(region)) return {};
  const std::string domain = region == "us-east-1" ? "email" : std::string(region);
  return "<" + std::string(message_id) + "@" + domain + ".amazonses.com>";
}

std::string SesSendEmailBody(const Delivery& d, std::string_view configuration_set) {
  if (d.built == nullptr || d.built->bytes.empty()) throw AppError::BadRequest("SES: the message was not built.");
  if (d.recipients.empty()) throw AppError::BadRequest("SES: the message has no envelope recipients.");
  if (d.recipients.size() > kSesMaxRecipients) {
    throw AppError::BadRequest("Amazon SES accepts at most 50 recipients per message; this one has " +
                               std::to_string(d.recipients.size()) + ".");
  }
  std::set<std::string> to, cc;
  if (d.message != nullptr) {
    for (const auto& box : d.message->to) to.insert(ascii::ToLower(AsciiAddress(box.email)));
    for (const auto& box : d.message->cc) cc.insert(ascii::ToLower(AsciiAddress(box.email)));
  }
  json to_list = json::array(), cc_list = json::array(), bcc_list = json::array();
  for (const auto& r : d.recipients) {
    const std::string key = ascii::ToLower(r);
    (d.message == nullptr || to.contains(key) ? to_list : cc.contains(key) ? cc_list : bcc_list).push_back(r);
  }
  json destination = json::object();
  if (!to_list.empty()) destination["ToAddresses"] = std::move(to_list);
  if (!cc_list.empty()) destination["CcAddresses"] = std::move(cc_list);
  if (!bcc_list.empty()) destination["BccAddresses"] = std::move(bcc_list);

  json body;
  std::string from = d.message != nullptr ? AsciiAddress(d.message->from.email) : d.envelope_from;
  if (!from.empty()) body["FromEmailAddress"] = from;
  if (!d.envelope_from.empty() && ascii::ToLower(d.envelope_from) != ascii::ToLower(from)) {
    body["FeedbackForwardingEmailAddress"] = d.envelope_from;
  }
  body["Destination"] = std::move(destination);
  body["Content"] = {{"Raw", {{"Data", crypto::Base64Encode(d.built->bytes)}}}};
  if (!configuration_set.empty()) body["ConfigurationSetName"] = std::string(configuration_set);
  return DumpJson(body);
}

SesTransport::SesTransport(SesOptions options, net::HttpClient http)
    : options_(std::move(options)), http_(std::move(http)) {
  if (options_.endpoint.empty()) options_.endpoint = SesEndpoint(options_.region);
  while (!options_.endpoint.empty() && options_.endpoint.back() == '/') options_.endpoint.pop_back();
  if (!options_.clock) options_.clock = [] { return std::chrono::system_clock::now(); };
}

net::HttpResponse SesTransport::Call(const std::string& method, const std::string& path,
                                     const std::string& body) const {
  if (!IsValidAwsRegion(options_.region) || options_.endpoint.empty()) {
    throw net::HttpError(net::HttpErrorKind::kInvalidRequest,
                         "\"" + options_.region + "\" is not an AWS region (e.g. eu-west-1)");
  }
  SigV4Request unsigned_request{method, options_.endpoint + path, {}, body};
  if (method == "POST") unsigned_request.headers.emplace_back("Content-Type", "application/json");
  SigV4Signature signature;
  try {
    signature = SignV4(unsigned_request, options_.credentials, options_.region, "ses", options_.clock());
  } catch (const AppError& e) {
    throw net::HttpError(net::HttpErrorKind::kInvalidRequest, "the SES endpoint " + e.message());
  }
  net::HttpRequest request;
  request.method = method;
  request.url = unsigned_request.url;
  request.headers = unsigned_request.headers;
  for (const auto& header : signature.added_headers) request.headers.push_back(header);
  request.headers.emplace_back("Authorization", signature.authorization);
  request.body = body;
  request.connect_timeout = options_.connect_timeout;
  request.total_timeout = options_.total_timeout;
  request.max_response_bytes = 16 * 1024;
  return http_.Send(request);
}

DeliveryResult SesTransport::Send(const Delivery& delivery) {
  DeliveryResult result;
  std::string body;
  try {
    body = SesSendEmailBody(delivery, options_.configuration_set);
  } catch (const AppError& e) {
    result.outcome = DeliveryOutcome::kPermanent;
    result.answer = CleanAnswer("The message cannot be sent: " + e.message());
    return result;
  }
  // The point of no return is the request (Delivery::on_commit).
  if (delivery.on_commit && !delivery.on_commit()) {
    result.outcome = DeliveryOutcome::kTemporary;
    result.answer = "withdrawn before sending";
    return result;
  }
  try {
    const net::HttpResponse response = Call("POST", "/v2/email/outbound-emails", body);
    if (OutcomeOfStatus(response.status) != DeliveryOutcome::kSent) return ResultOfError(response);
    json parsed = json::parse(response.body, nullptr, false);
    result.outcome = DeliveryOutcome::kSent;
    result.provider_message_id = CleanAnswer(StringField(parsed, {"MessageId"}), 200);
    result.answer = HttpAnswer(response.status, response.body);
    // SES took the message even if its answer is unreadable: sending it again would send it twice.
    if (result.provider_message_id.empty()) result.answer += " (no MessageId in SES's answer)";
  } catch (const net::HttpError& e) {
    result = ResultOfHttpError(e);
  }
  return result;
}

DeliveryResult SesTransport::Check() {
  DeliveryResult result;
  try {
    const net::HttpResponse response = Call("GET", "/v2/email/account", "");
    if (OutcomeOfStatus(response.status) != DeliveryOutcome::kSent) {
      result = ResultOfError(response);
      // AWS checked the key and the signature, then refused the call: an IAM policy that grants sending
      // (ses:SendEmail / ses:SendRawEmail) but not ses:GetAccount, a common least-privilege setup.
      if (response.status == 403 && ErrorOf(response).type == "AccessDeniedException") {
        result.outcome = DeliveryOutcome::kSent;
        result.answer = CleanAnswer(result.answer +
                                    " (the key and its signature are valid; it may not read the account, so the quota "
                                    "is unknown and sending was not tried)");
      }
      return result;
    }
    json account = json::parse(response.body, nullptr, false);
    if (response.truncated || !account.is_object()) {
      result.outcome = DeliveryOutcome::kTemporary;
      result.answer = CleanAnswer("SES's answer to GetAccount is not the expected JSON. " +
                                  HttpAnswer(response.status, response.body));
      return result;
    }
    auto flag = [&](const char* name) { return account.contains(name) && account[name] == true; };
    const json quota = account.contains("SendQuota") ? account["SendQuota"] : json::object();
    std::string status = StringField(account, {"EnforcementStatus"});
    std::string text = "HTTP " + std::to_string(response.status) + ": sending " +
                       (flag("SendingEnabled") ? "enabled" : "DISABLED") + " in " + options_.region + ", " +
                       (flag("ProductionAccessEnabled") ? "production access" : "sandbox (verified recipients only)") +
                       ", quota " + Number(quota, "Max24HourSend") + " per 24 h (" + Number(quota, "SentLast24Hours") +
                       " sent), " + Number(quota, "MaxSendRate") + " per second" +
                       (status.empty() ? "" : ", enforcement status " + status) + ".";
    result.answer = CleanAnswer(text);
    result.outcome = flag("SendingEnabled") ? DeliveryOutcome::kSent : DeliveryOutcome::kPermanent;
  } catch (const net::HttpError& e) {
    result = ResultOfHttpError(e);
  }
  return result;
}

}  // namespace poste::mail

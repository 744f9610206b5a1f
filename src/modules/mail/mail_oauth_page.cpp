#include "modules/mail/mail_oauth_page.hpp"

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/html_escape.hpp"

namespace poste::mail {

namespace {

constexpr std::string_view kStyle =
    "body{margin:0;font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;font-size:1.125rem;"
    "line-height:1.5;color:#1a1a1a;background:#fff}"
    "main{max-width:34rem;margin:3rem auto;padding:0 1.25rem}"
    "h1{font-size:1.75rem;line-height:1.25;margin:0 0 1rem}"
    "p{margin:0 0 1.5rem;overflow-wrap:anywhere}"
    "code{font-size:1rem}";

struct Text {
  std::string_view title, body;
};

Text TextOf(CallbackFailure failure) {
  switch (failure) {
    case CallbackFailure::kNone:
      return {"Account connected",
              "The mail account {account} is connected: it sends through the provider from now "
              "on. You can close this page and go back to Poste."};
    case CallbackFailure::kInvalidRequest:
      return {"The request is not valid",
              "The address of this page is damaged. Start the connection again from the account in Poste."};
    case CallbackFailure::kInvalidState:
      return {"This link is not valid",
              "This connection link is unknown, was already used, or was replaced by a newer one. Start the "
              "connection again from the account in Poste."};
    case CallbackFailure::kExpiredState:
      return {"This link has expired",
              "A connection must be completed within 10 minutes. Start the connection again from the account "
              "{account} in Poste."};
    case CallbackFailure::kAccessDenied:
      return {"Access was not granted",
              "The provider says access was declined, so the account {account} is not connected. Start again and "
              "allow access to connect it."};
    case CallbackFailure::kProviderError:
      return {"The provider refused",
              "The provider did not authorize the connection of the account {account}. Check the account's OAuth2 "
              "client settings, then start again."};
    case CallbackFailure::kMissingCode:
      return {"The request is not valid",
              "The provider's answer has no authorization code. Start the connection again from the account "
              "{account} in Poste."};
    case CallbackFailure::kNotAllowed:
      return {"Not allowed",
              "The person who started this connection may no longer manage the mail accounts of this site."};
    case CallbackFailure::kAccountChanged:
      return {"The account changed",
              "The account {account} is no longer a Gmail or Outlook account, so it was not connected."};
    case CallbackFailure::kTokenUnavailable:
      return {"The provider could not be reached",
              "Poste could not reach the provider's token endpoint to finish connecting the account {account}. "
              "Try again in a few minutes."};
    case CallbackFailure::kCodeRefused:
      return {"The provider refused the authorization",
              "The provider refused the authorization code for the account {account} (it may have expired). Start "
              "the connection again."};
    case CallbackFailure::kClientRefused:
      return {"The provider refused the client",
              "The provider refused the OAuth2 client of the account {account}: check its client id, client secret "
              "and the redirect URL registered with the provider."};
    case CallbackFailure::kBadTokenResponse:
      return {"The provider's answer is not usable",
              "The provider's token endpoint gave an answer Poste cannot use for the account {account}. Try again, "
              "or check the account's token URL."};
    case CallbackFailure::kNoRefreshToken:
      return {"No offline access was granted",
              "The provider gave no refresh token for the account {account}, so Poste could not send later on its "
              "own. Remove Poste's access in the provider's account settings, then connect again."};
  }
  return {"Error", "Something went wrong."};
}

}  // namespace

std::string RenderOAuthPage(CallbackFailure failure, std::string_view account_name) {
  const Text text = TextOf(failure);
  std::string body(text.body);
  if (account_name.empty()) {
    if (auto at = body.find(" {account}"); at != std::string::npos) body.erase(at, 10);
  } else if (auto at = body.find("{account}"); at != std::string::npos) {
    body.replace(at, 9, "“" + HtmlEscaped(account_name) + "”");
  }
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta name=\"referrer\" content=\"no-referrer\"><title>";
  html += std::string(text.title) + " · Poste</title><style>" + std::string(kStyle) + "</style></head><body><main>";
  html += "<h1>" + std::string(text.title) + "</h1><p>" + body + "</p>";
  if (failure != CallbackFailure::kNone) {
    html += "<p>Code: <code>" + std::string(FailureCode(failure)) + "</code></p>";
  }
  html += "</main></body></html>\n";
  return html;
}

const std::string& OAuthPagePolicy() {
  static const std::string policy = "default-src 'none'; style-src 'sha256-" +
                                    crypto::Base64Encode(crypto::Sha256(kStyle)) +
                                    "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  return policy;
}

}  // namespace poste::mail

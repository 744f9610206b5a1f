// Personalised messages per second on one core (issue 5 target: >= 5,000): one compiled template rendered with
// each recipient's variables, then the MIME message built, as a campaign does per recipient. Also the parts
// alone, to see where the time goes. Run: bench/mail/run.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lib/mail/dkim.hpp"
#include "lib/mail/html_text.hpp"
#include "lib/mail/mime.hpp"
#include "lib/mail/mime_stencil.hpp"
#include "lib/mail/template.hpp"

namespace {

using poste::mail::CompiledTemplate;
using poste::mail::OutgoingMessage;

// A newsletter of the usual size: ~4 KB of HTML with a header, three articles, a product list and a footer.
std::string NewsletterHtml() {
  std::string html =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{{subject}}</title>"
      "<style>body{font-family:Arial,sans-serif;color:#222}a{color:#0645ad}.btn{padding:8px 16px}</style></head>"
      "<body><table width=\"100%\" cellpadding=\"0\" cellspacing=\"0\"><tr><td align=\"center\">"
      "<h1>Bonjour {{first_name}} !</h1><p>Voici les nouvelles de {{company}} pour {{month}}.</p>";
  for (int i = 0; i < 3; ++i) {
    html += "<h2>Article " + std::to_string(i + 1) +
            " : une nouvelle fonctionnalité</h2><p>Lorem ipsum dolor sit amet, consectetur adipiscing elit. Sed do "
            "eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
            "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.</p>"
            "<p><a class=\"btn\" href=\"https://example.com/articles/" +
            std::to_string(i) + "?utm_campaign={{campaign}}&amp;uid={{uid}}\">Lire la suite</a></p>";
  }
  html +=
      "<h2>Vos produits</h2><ul>{{#products}}<li><b>{{name}}</b> — {{price}} €</li>{{/products}}</ul>"
      "{{#vip}}<p>Merci d'être client VIP depuis {{since}}.</p>{{/vip}}"
      "<hr><p style=\"font-size:12px\">Vous recevez ce message car vous êtes inscrit sur example.com. "
      "<a href=\"{{unsubscribe_url}}\">Se désinscrire</a></p></td></tr></table></body></html>";
  return html;
}

std::string NewsletterText() {
  return "Bonjour {{first_name}} !\n\nVoici les nouvelles de {{company}} pour {{month}}.\n\n"
         "Article 1 : https://example.com/articles/0?uid={{uid}}\nArticle 2 : https://example.com/articles/1\n"
         "Article 3 : https://example.com/articles/2\n\nVos produits :\n{{#products}}- {{name}} : {{price}} €\n"
         "{{/products}}\nSe désinscrire : {{unsubscribe_url}}\n";
}

std::vector<nlohmann::json> Recipients(int n) {
  std::vector<nlohmann::json> out;
  const char* names[] = {"Ana", "Bruno", "Chloé", "Dmitri", "Élodie", "Farid", "Grace", "Hiro"};
  for (int i = 0; i < n; ++i) {
    out.push_back({{"first_name", names[i % 8]},
                   {"email", "user" + std::to_string(i) + "@example.org"},
                   {"company", "Poste & Cie"},
                   {"month", "novembre"},
                   {"campaign", "nov-2026"},
                   {"uid", i},
                   {"vip", i % 3 == 0},
                   {"since", 2019 + i % 5},
                   {"products", {{{"name", "Stylo"}, {"price", "2,50"}}, {{"name", "Carnet"}, {"price", "7,90"}}}},
                   {"unsubscribe_url", "https://example.com/u/" + std::to_string(i) + "/tok3nAbCdEf"}});
  }
  return out;
}

OutgoingMessage Envelope(const nlohmann::json& r, poste::mail::RenderedMessage rendered) {
  OutgoingMessage m;
  m.from = {"Poste & Cie", "news@example.com"};
  m.to = {{r["first_name"].get<std::string>(), r["email"].get<std::string>()}};
  m.subject = std::move(rendered.subject);
  m.html = std::move(rendered.html);
  m.text = std::move(rendered.text);
  m.list_unsubscribe_url = r["unsubscribe_url"].get<std::string>();
  m.list_unsubscribe_mailto = "mailto:unsubscribe@example.com";
  m.headers = {{"X-Campaign", "nov-2026"}};
  return m;
}

const std::vector<nlohmann::json>& Data() {
  static const auto data = Recipients(1000);
  return data;
}

// The target: render + build, the text part from its own template.
void BM_RenderAndBuild(benchmark::State& state) {
  auto t =
      CompiledTemplate::Compile({"{{first_name}}, les nouvelles de {{month}}", NewsletterHtml(), NewsletterText()});
  const auto& data = Data();
  std::size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const auto& r = data[i++ % data.size()];
    auto built = poste::mail::BuildMessage(Envelope(r, t.Render(r)));
    bytes += built.bytes.size();
    benchmark::DoNotOptimize(built);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["bytes_per_message"] = static_cast<double>(bytes) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_RenderAndBuild);

// The same when the template has no text part: the text is derived from each rendered HTML.
void BM_RenderAndBuild_DerivedText(benchmark::State& state) {
  auto t = CompiledTemplate::Compile({"{{first_name}}, les nouvelles de {{month}}", NewsletterHtml(), ""});
  const auto& data = Data();
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& r = data[i++ % data.size()];
    benchmark::DoNotOptimize(poste::mail::BuildMessage(Envelope(r, t.Render(r))));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RenderAndBuild_DerivedText);

void BM_Render(benchmark::State& state) {
  auto t =
      CompiledTemplate::Compile({"{{first_name}}, les nouvelles de {{month}}", NewsletterHtml(), NewsletterText()});
  const auto& data = Data();
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(t.Render(data[i++ % data.size()]));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Render);

void BM_Build(benchmark::State& state) {
  auto t =
      CompiledTemplate::Compile({"{{first_name}}, les nouvelles de {{month}}", NewsletterHtml(), NewsletterText()});
  const auto& r = Data()[0];
  OutgoingMessage m = Envelope(r, t.Render(r));
  for (auto _ : state) benchmark::DoNotOptimize(poste::mail::BuildMessage(m));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Build);

// A campaign's way: the common headers and the MIME frame written once (MessageStencil), each message around
// them; the same template and recipients as BM_RenderAndBuild.
void BM_RenderAndStencil(benchmark::State& state) {
  auto t =
      CompiledTemplate::Compile({"{{first_name}}, les nouvelles de {{month}}", NewsletterHtml(), NewsletterText()});
  const auto& data = Data();
  const poste::mail::MessageStencil stencil(Envelope(data[0], {}));
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& r = data[i++ % data.size()];
    benchmark::DoNotOptimize(stencil.Build(Envelope(r, t.Render(r))));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RenderAndStencil);

void BM_Stencil(benchmark::State& state) {
  auto t =
      CompiledTemplate::Compile({"{{first_name}}, les nouvelles de {{month}}", NewsletterHtml(), NewsletterText()});
  const auto& r = Data()[0];
  const poste::mail::MessageStencil stencil(Envelope(r, {}));
  OutgoingMessage m = Envelope(r, t.Render(r));
  for (auto _ : state) benchmark::DoNotOptimize(stencil.Build(m));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Stencil);

// A campaign's way (CampaignBatch::Build): CompileForSending without a text part, the stencil, a Message-ID and
// unsubscribe links given. This newsletter has tags in a link and in <title>: its text is derived from each
// rendered HTML.
void BM_CampaignMessage(benchmark::State& state) {
  auto t = CompiledTemplate::CompileForSending({"{{first_name}}, les nouvelles de {{month}}", NewsletterHtml(), ""});
  const auto& data = Data();
  const poste::mail::MessageStencil stencil(Envelope(data[0], {}));
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& r = data[i % data.size()];
    OutgoingMessage m = Envelope(r, t.Render(r));
    m.message_id = "c42." + std::to_string(i++) + "@example.com";
    benchmark::DoNotOptimize(stencil.Build(m));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_CampaignMessage);

// The same with a template whose tags are all in the text: its text part is derived once, when compiled.
void BM_CampaignMessage_TextDerivedOnce(benchmark::State& state) {
  std::string html = NewsletterHtml();
  for (const std::string tag : {"{{subject}}", "?utm_campaign={{campaign}}&amp;uid={{uid}}", "{{unsubscribe_url}}",
                                "{{#products}}", "{{/products}}", "{{#vip}}", "{{/vip}}"}) {
    for (auto at = html.find(tag); at != std::string::npos; at = html.find(tag)) html.erase(at, tag.size());
  }
  auto t = CompiledTemplate::CompileForSending({"{{first_name}}, les nouvelles de {{month}}", html, ""});
  const auto& data = Data();
  const poste::mail::MessageStencil stencil(Envelope(data[0], {}));
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& r = data[i % data.size()];
    OutgoingMessage m = Envelope(r, t.Render(r));
    m.message_id = "c42." + std::to_string(i++) + "@example.com";
    benchmark::DoNotOptimize(stencil.Build(m));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_CampaignMessage_TextDerivedOnce);

void BM_HtmlToText(benchmark::State& state) {
  auto t = CompiledTemplate::Compile({"", NewsletterHtml(), ""});
  std::string html = t.Render(Data()[0]).html;
  for (auto _ : state) benchmark::DoNotOptimize(poste::mail::HtmlToText(html));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_HtmlToText);

// Not part of the target (DKIM is optional per site): what signing adds per message.
void BM_DkimSign(benchmark::State& state) {
  static const auto key = poste::mail::GenerateDkimKey();
  poste::mail::DkimSigner signer({"example.com", "poste", key.private_key_pem});
  auto t = CompiledTemplate::Compile({"{{first_name}}", NewsletterHtml(), NewsletterText()});
  const auto& r = Data()[0];
  std::string message = poste::mail::BuildMessage(Envelope(r, t.Render(r))).bytes;
  for (auto _ : state) benchmark::DoNotOptimize(signer.Sign(message));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_DkimSign);

}  // namespace

BENCHMARK_MAIN();

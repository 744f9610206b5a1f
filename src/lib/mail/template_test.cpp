#include "lib/mail/template.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "lib/error.hpp"
#include "lib/mail/html_text.hpp"

namespace poste::mail {
namespace {

using nlohmann::json;

CompiledTemplate Make(std::string subject, std::string html, std::string text) {
  return CompiledTemplate::Compile({std::move(subject), std::move(html), std::move(text)});
}

std::vector<FieldError> CompileErrors(const TemplateSource& source) {
  try {
    CompiledTemplate::Compile(source);
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 422);
    return e.fields();
  }
  return {};
}

TEST(MailTemplate, RendersEscapedHtmlAndRawTextAndSubject) {
  auto t = Make("Hello {{name}} & co", "<p>Hello {{name}}, {{{raw}}} {{&raw}}</p>", "Hello {{name}}");
  auto out = t.Render(json{{"name", "<Tom & \"Jerry\">"}, {"raw", "<b>x</b>"}});
  EXPECT_EQ(out.subject, "Hello <Tom & \"Jerry\"> & co");
  EXPECT_EQ(out.html, "<p>Hello &lt;Tom &amp; &quot;Jerry&quot;&gt;, <b>x</b> <b>x</b></p>");
  EXPECT_EQ(out.text, "Hello <Tom & \"Jerry\">");
}

TEST(MailTemplate, RendersSectionsListsDottedNamesNumbersAndMissingNames) {
  auto t = Make("Order {{order.id}}", "",
                "{{#items}}- {{name}} x{{qty}}\n{{/items}}{{^items}}nothing{{/items}}"
                "{{#vip}}VIP{{/vip}}{{#order}}total {{total}}{{/order}} {{missing}}|{{pi}}|{{tags.0}}");
  auto out = t.Render(json{{"order", {{"id", 42}, {"total", "9.50"}}},
                           {"items", json::array({{{"name", "pen"}, {"qty", 2}}, {{"name", "ink"}, {"qty", 1}}})},
                           {"vip", nullptr},
                           {"pi", 3.5}});
  EXPECT_EQ(out.subject, "Order 42");
  EXPECT_EQ(out.text, "- pen x2\n- ink x1\ntotal 9.50 |3.5|");
  EXPECT_EQ(t.Render(json{{"items", json::array()}, {"vip", true}}).text, "nothingVIP ||");
  EXPECT_EQ(t.Render(json(nullptr)).text, "nothing ||");
}

TEST(MailTemplate, SubjectIsAlwaysOneLine) {
  auto t = Make("Hi {{name}}!", "", "");
  EXPECT_EQ(t.Render(json{{"name", "Eve\r\nBcc: victim@example.com"}}).subject, "Hi Eve Bcc: victim@example.com!");
  EXPECT_EQ(t.Render(json{{"name", std::string("\t  x \0 y", 8)}}).subject, "Hi x y!");
  EXPECT_EQ(t.Render(json{{"name", "a\u2028b\u0085c\u2029"}}).subject, "Hi a b c !");
  auto errors = CompileErrors({"Hi\r\nBcc: x", "", ""});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "subject");
  EXPECT_EQ(errors[0].code, "header_injection");
}

TEST(MailTemplate, ReportsSyntaxErrorsWithLineAndColumn) {
  struct Case {
    std::string source;
    std::size_t line, column;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"Hello {{name", 1, 7, "Unclosed tag."},
           {"a\nbé {{#items}}\nx", 2, 4, "Unclosed section \"items\"."},
           {"line1\nline2\n  {{/items}}", 3, 3, "Section \"items\" is closed but was never opened."},
           {"{{#a}}{{#b}}{{/a}}{{/b}}", 1, 13, "Section \"b\" is closed by \"/a\"."},
           {"x {{>header}}", 1, 3, "Partials ({{>name}}) are not supported."},
           {"{{=<% %>=}} <%name%> <%#s%>", 1, 22, "Unclosed section \"s\"."},
           {"{{= bad =}}", 1, 1, "Invalid set-delimiter tag."},
           {"{{{raw}}", 1, 1, "Unclosed tag."},
       }) {
    auto error = FindSyntaxError(c.source);
    ASSERT_TRUE(error) << c.source;
    EXPECT_EQ(error->line, c.line) << c.source;
    EXPECT_EQ(error->column, c.column) << c.source;
    EXPECT_EQ(error->message, c.message) << c.source;
  }
  EXPECT_FALSE(FindSyntaxError("{{=<% %>=}}<%name%>{{not a tag"));
  EXPECT_FALSE(FindSyntaxError("plain {text} with } braces {"));

  auto errors = CompileErrors({"ok {{x}}", "<p>\n{{#a}}", "{{/b}}"});
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].field, "html");
  EXPECT_EQ(errors[0].code, "template_syntax");
  EXPECT_EQ(errors[0].message, "line 2, column 1: Unclosed section \"a\".");
  EXPECT_EQ(errors[1].field, "text");
}

TEST(MailTemplate, ListsTheVariablesItUses) {
  auto t = Make("{{greeting}} {{user.first}}", "{{! a comment }}{{#items}}{{name}}{{#tags}}{{.}}{{/tags}}{{/items}}",
                "{{^vip}}{{greeting}}{{/vip}}{{greeting}}");
  std::vector<TemplateVariable> expected = {
      {"greeting", VariableKind::kVariable, "", "subject"}, {"user.first", VariableKind::kVariable, "", "subject"},
      {"items", VariableKind::kSection, "", "html"},        {"name", VariableKind::kVariable, "items", "html"},
      {"tags", VariableKind::kSection, "items", "html"},    {"vip", VariableKind::kInvertedSection, "", "text"},
      {"greeting", VariableKind::kVariable, "vip", "text"}, {"greeting", VariableKind::kVariable, "", "text"},
  };
  EXPECT_EQ(t.Variables(), expected);
}

TEST(MailTemplate, RequiredCheckReturnsTheMissingNames) {
  auto t = Make("{{first}} {{user.last}}", "{{#opt}}{{inner}}{{/opt}}{{first}}", "{{company}}");
  EXPECT_EQ(t.MissingVariables(json::object()), (std::vector<std::string>{"first", "user.last", "company"}));
  EXPECT_EQ(t.MissingVariables(json{{"first", "A"}, {"user", {{"last", "B"}}}, {"company", "C"}}),
            std::vector<std::string>{});
  EXPECT_EQ(t.MissingVariables(json{{"first", nullptr}, {"user", "not an object"}, {"company", 0}}),
            (std::vector<std::string>{"first", "user.last"}));
  EXPECT_EQ(t.MissingVariables(json::array()), (std::vector<std::string>{"first", "user.last", "company"}));
}

TEST(MailTemplate, RefusesHostileInput) {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "{{#s" + std::to_string(i) + "}}";
  auto errors = CompileErrors({"", deep, ""});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("nested too deeply"), std::string::npos);

  std::string many;  // 100,000 tags compile in linear time
  for (int i = 0; i < 100000; ++i) many += "{{v" + std::to_string(i % 5000) + "}}";
  EXPECT_EQ(CompiledTemplate::Compile({"", many, ""}).Variables().size(), 5000u);

  errors = CompileErrors({"", std::string(kMaxTemplateBytes + 1, 'x'), ""});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "too_long");

  // Variables cannot inject template syntax: their values are data, never compiled.
  auto t = Make("", "", "{{a}}");
  EXPECT_EQ(t.Render(json{{"a", "{{b}}"}, {"b", "secret"}}).text, "{{b}}");

  json nested = "leaf";
  for (int i = 0; i < 100; ++i) nested = json{{"k", nested}};
  EXPECT_THROW(t.Render(nested), AppError);
  EXPECT_THROW(t.Render(json::array({1, 2})), AppError);

  // Invalid UTF-8 and NULs in a template or the data do not break rendering.
  auto u = Make("", "", std::string("\xff{{a}}\0", 7));
  EXPECT_EQ(u.Render(json{{"a", std::string("\xc3\x28", 2)}}).text, std::string("\xff\xc3\x28\0", 4));
}

TEST(MailTemplate, RendersConcurrentlyFromOneCompiledTemplate) {
  auto t = Make("Hi {{n}}", "<b>{{n}}</b>{{#l}}{{.}}{{/l}}", "{{n}}");
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 300; ++i) {
        std::string n = std::to_string(w * 1000 + i);
        auto out = t.Render(json{{"n", n}, {"l", json::array({1, 2})}});
        if (out.html != "<b>" + n + "</b>12" || out.subject != "Hi " + n) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

// For sending, a template without a text part renders the text a message's HTML converts to, whether the
// text template could be derived once (plain variables in the text) or each HTML is converted.
TEST(TemplateForSending, RendersTheTextTheHtmlConvertsTo) {
  const std::vector<std::string> htmls = {
      "<h1>Bonjour {{first_name}}</h1><p>Les nouvelles de {{company}}, en bref.</p><ul><li>Un</li><li>Deux</li></ul>",
      // Variables in markup, sections, unescaped values, <title>, comments: converted per message.
      "<p><a href=\"{{url}}\">Lire</a> {{first_name}}</p>", "<p>{{#vip}}Merci {{first_name}}{{/vip}}</p>",
      "<p>{{{raw}}} et {{first_name}}</p>",
      "<html><head><title>{{first_name}}</title></head><body><p>Corps</p></body></html>",
      "<p><!-- {{first_name}} --> texte</p>"};
  const std::vector<json> values = {
      {{"first_name", "Ana"},
       {"company", "Poste & Cie"},
       {"url", "https://example.com/a?b=1&c=2"},
       {"vip", true},
       {"raw", "<b>gras</b>"}},
      {{"first_name", "  Ana \n  Maria\t"}, {"company", "<script>x</script> & \"quotes\""}, {"vip", false}},
      {{"first_name", "Élodie — 😀"}, {"company", ""}},
      json::object()};
  for (const auto& html : htmls) {
    const auto t = CompiledTemplate::CompileForSending({"S", html, ""});
    for (const auto& v : values) {
      const auto out = t.Render(v);
      // Alike but for blank lines (an empty value can leave an empty paragraph's line).
      auto blank_lines_merged = [](std::string text) {
        for (std::size_t at; (at = text.find("\n\n\n")) != std::string::npos;) text.erase(at, 1);
        while (text.starts_with("\n")) text.erase(0, 1);
        return text;
      };
      EXPECT_EQ(blank_lines_merged(out.text), blank_lines_merged(HtmlToText(out.html))) << html << "\n" << v.dump();
    }
  }
  // A text part given is rendered as it is.
  const auto given = CompiledTemplate::CompileForSending({"S", "<p>{{a}}</p>", "Text {{a}}"});
  EXPECT_EQ(given.Render({{"a", "x  y"}}).text, "Text x  y");
  // Compile keeps the text empty for the previews.
  EXPECT_EQ(CompiledTemplate::Compile({"S", "<p>{{a}}</p>", ""}).Render({{"a", "x"}}).text, "");
}

}  // namespace
}  // namespace poste::mail

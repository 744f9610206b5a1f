#include "lib/web/content_disposition.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace poste::web {
namespace {

TEST(ContentDisposition, HasAnAsciiFallbackAndUtf8) {
  EXPECT_EQ(ContentDisposition("inline", "r\xC3\xA9sum\xC3\xA9 \"1\".pdf"),
            "inline; filename=\"r__sum__ _1_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%221%22.pdf");
  EXPECT_EQ(ContentDisposition("attachment", "facture \xC3\xA9t\xC3\xA9.pdf"),
            "attachment; filename=\"facture __t__.pdf\"; filename*=UTF-8''facture%20%C3%A9t%C3%A9.pdf");
  EXPECT_EQ(ContentDisposition("attachment", "report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf");
}

TEST(ContentDisposition, HostileNamesCannotBreakTheHeader) {
  for (const std::string& name :
       {std::string("a;b\r\n.svg"), std::string("x\"; filename=\"evil.exe"), std::string("nul\0byte", 8),
        std::string("back\\slash"), std::string("\xFF\xFE"), std::string("../../etc/passwd"), std::string(5000, 'x')}) {
    const auto header = ContentDisposition("attachment", name);
    for (char c : header) {
      EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) << header;
    }
    // One quoted fallback: the only quotes are its own.
    EXPECT_EQ(std::count(header.begin(), header.end(), '"'), 2) << header;
  }
  EXPECT_EQ(ContentDisposition("attachment", ""), "attachment; filename=\"download\"; filename*=UTF-8''download");
}

}  // namespace
}  // namespace poste::web

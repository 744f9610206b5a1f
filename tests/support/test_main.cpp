// GoogleTest main for every Poste test binary: installs the process's blocking pool first.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "lib/async/blocking_pool.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Info lines (migrations applied, workers started) would bury the test output; warnings still show.
  spdlog::set_level(spdlog::level::warn);
  poste::BlockingPool pool(4);
  poste::BlockingPool::Install(&pool);
  return RUN_ALL_TESTS();
}

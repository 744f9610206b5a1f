// GoogleTest main for every Poste test binary: installs the process's blocking pool first.
#include <gtest/gtest.h>

#include "lib/async/blocking_pool.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  poste::BlockingPool pool(4);
  poste::BlockingPool::Install(&pool);
  return RUN_ALL_TESTS();
}

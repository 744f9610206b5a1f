// poste: one binary for many websites and their email.
#include <malloc.h>

#include "app/commands.hpp"

int main(int argc, char** argv) {
  // Fixed malloc thresholds: blocks of 128 KB and more are mmap'ed and unmapped when freed, and the heap is
  // trimmed above 128 KB free at its top. By default glibc raises both after the first large block is freed
  // (up to 32 MB), so a burst of load leaves its large buffers in the heap and arenas for good: after the HTTP
  // benchmark, 7.6 MB anonymous instead of 3.8 (idle RSS after the load, bench/RESULTS.md).
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  mallopt(M_TRIM_THRESHOLD, 128 * 1024);
  return poste::app::RunCli(argc, argv);
}

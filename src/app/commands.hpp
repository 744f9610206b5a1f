#pragma once
// The command line: poste serve | migrate | version, with --help everywhere.

namespace poste::app {

int RunCli(int argc, char** argv);

}  // namespace poste::app

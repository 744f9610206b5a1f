// poste: one binary for many websites and their email.
#include "app/commands.hpp"

int main(int argc, char** argv) { return poste::app::RunCli(argc, argv); }

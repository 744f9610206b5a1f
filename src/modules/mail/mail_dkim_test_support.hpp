#pragma once
// Tests only: checks a DKIM-signed message with an independent verifier, dkimpy (Debian's python3-dkim),
// whose DNS look-up is replaced by the record Poste shows: the message passes only if its signature verifies
// against that record at that DNS name.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace poste::mail::testing {

inline constexpr const char* kDkimpyVerify = R"PY(
import sys
import dkim
message = open(sys.argv[1], "rb").read()
record = open(sys.argv[2], "rb").read()
name = sys.argv[3].encode().lower()
asked = []
def dnsfunc(qname, timeout=5):
    q = qname if isinstance(qname, bytes) else qname.encode()
    asked.append(q)
    return record if q.rstrip(b".").lower() == name else None
ok = dkim.verify(message, dnsfunc=dnsfunc)
print("pass" if ok else "fail", b",".join(asked).decode())
sys.exit(0 if ok else 1)
)PY";

struct DkimpyResult {
  int exit_code = -1;  // 0 pass, 1 fail, anything else: the verifier could not run
  std::string output;
};

// Runs dkimpy on `message` with `record` published at `dns_name`.
inline DkimpyResult DkimpyVerify(const std::string& message, const std::string& record, const std::string& dns_name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("poste-dkimpy-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
  std::filesystem::create_directories(dir);
  const auto write = [&](const char* name, const std::string& bytes) {
    std::ofstream(dir / name, std::ios::binary) << bytes;
    return (dir / name).string();
  };
  const std::string script = write("verify.py", kDkimpyVerify), msg = write("message.eml", message),
                    txt = write("record.txt", record);
  // Debian's python (python3-dkim): a python3 earlier on PATH may lack the module.
  const std::string command = "/usr/bin/python3 " + script + " " + msg + " " + txt + " '" + dns_name + "' 2>&1";
  DkimpyResult result;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, pipe) != nullptr) result.output += buf;
    const int status = ::pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return result;
}

}  // namespace poste::mail::testing

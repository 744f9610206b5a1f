#pragma once
// Loopback sockets for tests: a listener on a port the system picks, and a port nothing listens on (for
// "server down" cases).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace poste::net::testing {

// A TCP socket bound to 127.0.0.1 on a free port (listening with `backlog` unless it is 0); sets `port`.
inline int BindLoopback(int& port, int backlog = 0) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  if (backlog > 0) ::listen(fd, backlog);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

// A loopback port that was free a moment ago and has nothing listening on it.
inline int ClosedLoopbackPort() {
  int port = 0;
  ::close(BindLoopback(port));
  return port;
}

}  // namespace poste::net::testing

#pragma once
// Tests only: an SMTP server on loopback whose answers a test scripts, serving several connections at once
// (a thread per connection). It records every connection's reads (to see what the client put in one write)
// and every message whose data ended (envelope, body, connection), and can misbehave: answer a command with
// anything (a 70 KB line, a line that is not SMTP), close after a number of messages, or stop answering.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "lib/net/testing/loopback.hpp"

namespace poste::mail::testing {

class ScriptedSmtpServer {
 public:
  // What the server does for one command.
  struct Reply {
    std::string bytes;   // written as is (CRLF included), may be empty
    bool close = false;  // then closes the connection
    bool stall = false;  // then answers nothing more on this connection (it still reads)
    static Reply Say(std::string line) { return Reply{std::move(line) + "\r\n"}; }
    static Reply Stall() { return Reply{{}, false, true}; }
  };

  // The envelope of the transaction being served.
  struct Envelope {
    int connection = 0;  // 0 for the first connection accepted, then 1, 2...
    std::string from;
    std::vector<std::string> recipients;  // the accepted ones
  };

  struct Message {
    Envelope envelope;
    std::string body;           // as received, dot-stuffing left in, without the final ".\r\n"
    bool data_allowed = false;  // what Script::data_arrives answered when its first bytes arrived
  };

  struct Script {
    bool pipelining = true;  // offer PIPELINING in the EHLO answer
    // Answers a command line ("MAIL FROM:<a@b>", "RCPT TO:<c@d>", "DATA", "RSET"...; "." for the end of a
    // message's data, with `body`); nullopt: the default answer (250, 354 for DATA, 554 for a DATA
    // without any accepted recipient, 503 for RCPT after a refused MAIL, "250 2.0.0 Ok: queued as Q<n>"
    // after the data, n counting the messages received from 1). Called from the connections' threads.
    std::function<std::optional<Reply>(const std::string& command, const Envelope& envelope, const std::string& body)>
        answer;
    // Called when the first bytes of a message's data arrive (from the connection's thread); recorded in
    // Message::data_allowed.
    std::function<bool(const Envelope& envelope)> data_arrives;
    // The first `close_connections` connections are closed right after answering their close_after-th
    // message (0: never).
    int close_after = 0;
    int close_connections = 1;
    // More connections open at once than this are greeted with 421 and closed (0: no limit).
    int max_connections = 0;
    // Answers are written in pieces of this many bytes, a moment apart (0: at once).
    int dribble = 0;
  };

  ScriptedSmtpServer() : ScriptedSmtpServer(Script()) {}
  explicit ScriptedSmtpServer(Script script) : script_(std::move(script)) {
    fd_ = net::testing::BindLoopback(port_, 32);
    acceptor_ = std::thread([this] { Accept(); });
  }

  ~ScriptedSmtpServer() {
    ::shutdown(fd_, SHUT_RDWR);
    acceptor_.join();
    ::close(fd_);
    {
      // Wakes the connections still reading (a stalled one waits for the client otherwise).
      std::lock_guard lock(mutex_);
      for (int c : open_) ::shutdown(c, SHUT_RDWR);
    }
    for (auto& t : threads_) t.join();
  }
  ScriptedSmtpServer(const ScriptedSmtpServer&) = delete;
  ScriptedSmtpServer& operator=(const ScriptedSmtpServer&) = delete;

  int port() const { return port_; }

  // Closes every open connection, as a server does with idle clients.
  void DropConnections() {
    std::lock_guard lock(mutex_);
    for (int c : open_) ::shutdown(c, SHUT_RDWR);
  }

  // Connections accepted so far (those refused with 421 too).
  int connections() const {
    std::lock_guard lock(mutex_);
    return accepted_;
  }
  std::vector<Message> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  // Each read's bytes, per connection.
  std::vector<std::vector<std::string>> reads() const {
    std::lock_guard lock(mutex_);
    return reads_;
  }

 private:
  void Accept() {
    for (;;) {
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      const int one = 1;
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::lock_guard lock(mutex_);
      const int index = accepted_++;
      const bool refused = script_.max_connections > 0 && static_cast<int>(open_.size()) >= script_.max_connections;
      reads_.emplace_back();
      open_.push_back(c);
      threads_.emplace_back([this, c, index, refused] {
        if (refused) {
          Say(c, "421 4.7.0 Too many connections, try later\r\n");
        } else {
          Serve(c, index);
        }
        std::lock_guard lock(mutex_);
        open_.erase(std::find(open_.begin(), open_.end(), c));
        ::close(c);
      });
    }
  }

  static void Say(int c, const std::string& bytes, int flags = 0) {
    std::string_view rest(bytes);
    while (!rest.empty()) {
      const auto n = ::send(c, rest.data(), rest.size(), flags | MSG_NOSIGNAL);  // a client gone must not SIGPIPE us
      if (n <= 0) return;
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  void Serve(int c, int index) {
    Say(c, "220 scripted ESMTP\r\n");
    Envelope envelope;
    envelope.connection = index;
    std::string buffer;
    bool has_mail = false, in_data = false, data_seen = false, data_allowed = false, stalled = false;
    int answered = 0;  // messages answered on this connection
    std::vector<char> chunk(65536);
    // Answers go out together once the commands read so far are answered, as real servers flush pipelined
    // replies (one at a time, Nagle would hold them back for the client's delayed ACK).
    std::string out;
    auto flush = [&] {
      if (script_.dribble > 0) {
        // In pieces, so that the client sees replies cut anywhere.
        for (std::size_t at = 0; at < out.size(); at += static_cast<std::size_t>(script_.dribble)) {
          Say(c, out.substr(at, static_cast<std::size_t>(script_.dribble)));
          std::this_thread::sleep_for(std::chrono::microseconds(300));
        }
      } else if (!out.empty()) {
        Say(c, out);
      }
      out.clear();
    };
    // The last answers and the end of the connection in one segment (held with MSG_MORE, the FIN rides on
    // it), so that the client reads both at once, whatever the timing.
    auto hang_up = [&] {
      Say(c, out, MSG_MORE);
      out.clear();
      ::shutdown(c, SHUT_WR);
    };
    // Answers, or stops: false when the connection is to be closed.
    auto act = [&](const std::optional<Reply>& scripted, const std::string& fallback) {
      const Reply reply = scripted ? *scripted : Reply{fallback + "\r\n"};
      out += reply.bytes;
      stalled = reply.stall;
      return !reply.close;
    };
    for (;;) {
      const auto n = ::read(c, chunk.data(), chunk.size());
      if (n <= 0) return;
      buffer.append(chunk.data(), static_cast<std::size_t>(n));
      {
        std::lock_guard lock(mutex_);
        reads_[static_cast<std::size_t>(index)].emplace_back(chunk.data(), static_cast<std::size_t>(n));
      }
      if (stalled) continue;
      for (;;) {
        if (in_data) {
          if (!data_seen && !buffer.empty()) {
            data_seen = true;
            data_allowed = script_.data_arrives ? script_.data_arrives(envelope) : true;
          }
          const auto end = buffer.starts_with(".\r\n") ? 0 : buffer.find("\r\n.\r\n");
          if (end == std::string::npos) break;
          const std::string body = end == 0 ? std::string() : buffer.substr(0, end + 2);
          buffer.erase(0, end == 0 ? 3 : end + 5);
          in_data = false;
          has_mail = false;
          int number;
          {
            std::lock_guard lock(mutex_);
            messages_.push_back(Message{envelope, body, data_allowed});
            number = static_cast<int>(messages_.size());
          }
          const Envelope done = envelope;
          envelope.from.clear();
          envelope.recipients.clear();
          if (!act(Answer(".", done, body), "250 2.0.0 Ok: queued as Q" + std::to_string(number))) return hang_up();
          ++answered;
          if (script_.close_after > 0 && answered == script_.close_after && index < script_.close_connections) {
            return hang_up();
          }
          if (stalled) break;
          continue;
        }
        const auto eol = buffer.find("\r\n");
        if (eol == std::string::npos) break;
        const std::string command = buffer.substr(0, eol);
        buffer.erase(0, eol + 2);
        bool go_on = true;
        if (command.starts_with("EHLO")) {
          go_on =
              act(Answer(command, envelope, {}), script_.pipelining ? "250-scripted\r\n250-PIPELINING\r\n250 8BITMIME"
                                                                    : "250-scripted\r\n250 8BITMIME");
        } else if (command.starts_with("MAIL FROM:")) {
          envelope.from = Between(command);
          envelope.recipients.clear();
          const auto scripted = Answer(command, envelope, {});
          has_mail = !scripted || scripted->bytes.starts_with("2");
          if (!has_mail) envelope.from.clear();
          go_on = act(scripted, "250 2.1.0 Ok");
        } else if (command.starts_with("RCPT TO:")) {
          const auto scripted = Answer(command, envelope, {});
          // A recipient counts when the answer (scripted or not) is positive.
          const bool accepted = scripted ? scripted->bytes.starts_with("2") : has_mail;
          if (accepted) envelope.recipients.push_back(Between(command));
          go_on = act(scripted, has_mail ? "250 2.1.5 Ok" : "503 5.5.1 Error: need MAIL command");
        } else if (command == "DATA") {
          const auto scripted = Answer(command, envelope, {});
          const bool invite = scripted ? scripted->bytes.starts_with("354") : !envelope.recipients.empty();
          go_on = act(scripted, envelope.recipients.empty() ? "554 5.5.1 Error: no valid recipients" : "354 go ahead");
          if (invite) {
            in_data = true;
            data_seen = false;
          }
        } else if (command == "RSET") {
          has_mail = false;
          envelope.from.clear();
          envelope.recipients.clear();
          go_on = act(Answer(command, envelope, {}), "250 2.0.0 Ok");
        } else if (command == "QUIT") {
          act(Answer(command, envelope, {}), "221 2.0.0 Bye");
          return flush();
        } else {
          go_on = act(Answer(command, envelope, {}), "250 Ok");
        }
        if (!go_on) return hang_up();
        if (stalled) break;
      }
      flush();
    }
  }

  std::optional<Reply> Answer(const std::string& command, const Envelope& envelope, const std::string& body) {
    if (!script_.answer) return std::nullopt;
    return script_.answer(command, envelope, body);
  }

  // "MAIL FROM:<a@b> SIZE=1" -> "a@b".
  static std::string Between(const std::string& command) {
    const auto open = command.find('<');
    const auto close = command.find('>', open);
    if (open == std::string::npos || close == std::string::npos) return {};
    return command.substr(open + 1, close - open - 1);
  }

  Script script_;
  int fd_ = -1, port_ = 0;
  std::thread acceptor_;
  mutable std::mutex mutex_;
  int accepted_ = 0;
  std::vector<int> open_;
  std::vector<std::thread> threads_;
  std::vector<Message> messages_;
  std::vector<std::vector<std::string>> reads_;
};

}  // namespace poste::mail::testing

// signals.hpp — SIGINT/SIGTERM as a file descriptor the poll loop watches, so a stop request is handled
// in the loop like any other input (no handler, no global flag).
#pragma once

#include <optional>

namespace gossip {

class StopSignals {
 public:
  // Blocks SIGINT and SIGTERM for this thread (and threads it starts later, such as ZeroMQ's) and opens
  // a signalfd for them. Call before creating the zmq context. Ignores SIGPIPE.
  StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  ~StopSignals();

  int fd() const { return fd_; }
  // The signal number if one is pending, else nullopt. Never blocks.
  std::optional<int> take();

 private:
  int fd_ = -1;
};

}  // namespace gossip

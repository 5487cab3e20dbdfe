#include "common/dir_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

namespace gossip {

DirectoryWatch::DirectoryWatch(const std::filesystem::path& dir) {
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) return;
  constexpr std::uint32_t kEvents = IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
                                    IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
  if (inotify_add_watch(fd_, dir.c_str(), kEvents) < 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

DirectoryWatch::~DirectoryWatch() {
  if (fd_ >= 0) ::close(fd_);
}

bool DirectoryWatch::drain() {
  if (fd_ < 0) return false;
  alignas(inotify_event) char buf[4096];
  bool any = false;
  while (::read(fd_, buf, sizeof buf) > 0) any = true;
  return any;
}

}  // namespace gossip

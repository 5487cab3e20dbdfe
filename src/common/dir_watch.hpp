// dir_watch.hpp — tells when a directory's entries change (Linux inotify): a file added, removed, renamed,
// written or re-permissioned in it. A curve node watches its trusted_dir with it, so a new or revoked key
// takes effect at once and an idle node does not stat every key file again and again.
#pragma once

#include <filesystem>

namespace gossip {

class DirectoryWatch {
 public:
  // Watches `dir`. If inotify is unavailable (or the directory cannot be watched) fd() is -1 and the
  // caller falls back to polling.
  explicit DirectoryWatch(const std::filesystem::path& dir);
  ~DirectoryWatch();
  DirectoryWatch(const DirectoryWatch&) = delete;
  DirectoryWatch& operator=(const DirectoryWatch&) = delete;

  // Readable when something changed; -1 when there is no watch.
  int fd() const { return fd_; }
  // Reads every pending notification without blocking; true if there was any.
  bool drain();

 private:
  int fd_ = -1;
};

}  // namespace gossip

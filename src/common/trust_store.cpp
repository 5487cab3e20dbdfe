#include "common/trust_store.hpp"

#include <algorithm>

namespace gossip {
namespace fs = std::filesystem;

namespace {
std::vector<fs::path> pub_files(const fs::path& dir, std::error_code& ec) {
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".pub" && it->is_regular_file()) files.push_back(it->path());
  std::sort(files.begin(), files.end());
  return files;
}
}  // namespace

std::variant<TrustStore, ConfigError> TrustStore::load(const fs::path& dir) {
  std::error_code ec;
  const auto files = pub_files(dir, ec);
  if (ec) return ConfigError{dir.string(), 0, "", "cannot read the trusted directory: " + ec.message()};
  std::vector<PublicIdentity> members;
  for (const auto& f : files) {
    auto id = read_public_identity(f);
    if (auto* err = std::get_if<ConfigError>(&id)) return *err;
    members.push_back(std::get<PublicIdentity>(std::move(id)));
  }
  return from(std::move(members));
}

std::variant<TrustStore, ConfigError> TrustStore::from(std::vector<PublicIdentity> members) {
  TrustStore t;
  t.members_ = std::move(members);
  for (std::size_t i = 0; i < t.members_.size(); ++i) {
    const auto& m = t.members_[i];
    if (!t.by_key_.emplace(m.curve_public, i).second)
      return ConfigError{m.file.string(), 0, "curve_public",
                         "the same key as " + t.members_[t.by_key_[m.curve_public]].file.string()};
    for (const auto& a : m.addresses)
      if (!t.by_address_.emplace(a, i).second)
        return ConfigError{m.file.string(), 0, "addresses",
                           a.to_string() + " is also claimed by " + t.members_[t.by_address_[a]].file.string()};
  }
  return t;
}

const PublicIdentity* TrustStore::by_curve_key(std::string_view z85) const {
  const auto it = by_key_.find(std::string(z85));
  return it == by_key_.end() ? nullptr : &members_[it->second];
}

const PublicIdentity* TrustStore::by_address(const Address& a) const {
  const auto it = by_address_.find(a);
  return it == by_address_.end() ? nullptr : &members_[it->second];
}

bool TrustStore::speaks_for(std::string_view curve_key, const Address& a) const {
  const auto* owner = by_address(a);
  return owner && owner->curve_public == curve_key;
}

std::vector<std::string> TrustStore::revoked_since(const TrustStore& before) const {
  std::vector<std::string> gone;
  for (const auto& m : before.members_)
    if (!by_curve_key(m.curve_public)) gone.push_back(m.curve_public);
  return gone;
}

std::string trusted_dir_fingerprint(const fs::path& dir) {
  std::error_code ec;
  std::string print;
  for (const auto& f : pub_files(dir, ec)) {
    std::error_code e2;
    const auto size = fs::file_size(f, e2);
    const auto mtime = fs::last_write_time(f, e2).time_since_epoch().count();
    print += f.filename().string() + '\0' + std::to_string(size) + '\0' + std::to_string(mtime) + '\n';
  }
  if (ec) print = "unreadable: " + ec.message();
  return print;
}

}  // namespace gossip

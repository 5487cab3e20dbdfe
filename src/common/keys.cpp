#include "common/keys.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <zmq.h>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

namespace gossip {
namespace fs = std::filesystem;

namespace {

std::string hex(const unsigned char* p, std::size_t n) {
  std::string s(n * 2, '0');
  sodium_bin2hex(s.data(), s.size() + 1, p, n);  // writes a terminating NUL into the string's own one
  return s;
}

bool unhex(std::string_view text, unsigned char* out, std::size_t n) {
  std::size_t len = 0;
  return text.size() == 2 * n &&
         sodium_hex2bin(out, n, text.data(), text.size(), nullptr, &len, nullptr) == 0 && len == n;
}

std::string addresses_toml(const std::vector<Address>& list) {
  std::string s = "[";
  for (std::size_t i = 0; i < list.size(); ++i) s += (i ? ", \"" : "\"") + list[i].to_string() + "\"";
  return s + "]";
}

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

// Any key but `allowed` is refused: a .key copied into a trusted directory as a .pub must not load (and
// so spread its secret), and a misspelt key must not be ignored.
std::optional<ConfigError> only_keys(const toml::table& t, const fs::path& file, std::initializer_list<std::string_view> allowed) {
  for (auto&& [k, v] : t) {
    if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end()) continue;
    const bool secret = k.str() == "curve_secret" || k.str() == "sign_secret";
    return ConfigError{file.string(), line_of(v), std::string(k.str()),
                       secret ? "a public key file must not hold a secret key" : "unknown key"};
  }
  return std::nullopt;
}

// The fields both files share, read into `id`; nullopt when all are fine.
std::optional<ConfigError> read_common(const toml::table& t, const fs::path& file, PublicIdentity& id) {
  const std::string name = file.string();
  auto missing = [&](const char* key) { return ConfigError{name, 0, key, "is required"}; };
  id.file = file;
  id.name = file.stem().string();

  const auto* addrs = t.get("addresses");
  if (!addrs) return missing("addresses");
  const auto* arr = addrs->as_array();
  if (!arr || arr->empty())
    return ConfigError{name, line_of(*addrs), "addresses", "must be a non-empty array of \"IP:port\" strings"};
  for (const auto& item : *arr) {
    std::string why;
    const auto text = item.value<std::string>();
    auto a = text ? parse_address(*text, &why) : std::nullopt;
    if (!text) why = "must be a string \"IP:port\"";
    if (a && is_wildcard(*a)) why = "a wildcard IP names no node";
    if (!a || is_wildcard(*a)) return ConfigError{name, line_of(item), "addresses", "bad address: " + why};
    id.addresses.push_back(*a);
  }

  const auto* curve = t.get("curve_public");
  if (!curve) return missing("curve_public");
  const auto ctext = curve->value<std::string>();
  unsigned char raw[32];
  if (!ctext || ctext->size() != kCurveKeyText || !zmq_z85_decode(raw, ctext->c_str()))
    return ConfigError{name, line_of(*curve), "curve_public", "must be a 40-character Z85 CURVE key"};
  id.curve_public = *ctext;

  const auto* sign = t.get("sign_public");
  if (!sign) return missing("sign_public");
  const auto stext = sign->value<std::string>();
  if (!stext || !unhex(*stext, id.sign_public.data(), id.sign_public.size()))
    return ConfigError{name, line_of(*sign), "sign_public", "must be 64 hex digits (an Ed25519 public key)"};
  return std::nullopt;
}

std::variant<toml::table, ConfigError> parse_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return ConfigError{file.string(), 0, "", "cannot open the file"};
  std::stringstream text;
  text << in.rdbuf();
  try {
    return toml::parse(text.str(), file.string());
  } catch (const toml::parse_error& e) {
    return ConfigError{file.string(), static_cast<int>(e.source().begin.line), "", std::string(e.description())};
  }
}

}  // namespace

bool PublicIdentity::speaks_for(const Address& a) const {
  for (const auto& mine : addresses)
    if (mine == a) return true;
  return false;
}

SecretIdentity generate_identity(std::string name, std::vector<Address> addresses) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
  SecretIdentity id;
  id.pub.name = std::move(name);
  id.pub.addresses = std::move(addresses);
  char pub[kCurveKeyText + 1];
  char sec[kCurveKeyText + 1];
  zmq_curve_keypair(pub, sec);
  id.pub.curve_public = pub;
  id.curve_secret = sec;
  crypto_sign_keypair(id.pub.sign_public.data(), id.sign_secret.data());
  sodium_memzero(sec, sizeof sec);
  return id;
}

std::string public_file_text(const PublicIdentity& id) {
  return "# A gossip overlay member's public key (gossip-ctl keygen). Copy it into every member's\n"
         "# security.trusted_dir; delete it there to revoke the member.\n"
         "addresses = " + addresses_toml(id.addresses) + "\n" +
         "curve_public = \"" + id.curve_public + "\"\n" +
         "sign_public = \"" + hex(id.sign_public.data(), id.sign_public.size()) + "\"\n";
}

std::string secret_file_text(const SecretIdentity& id) {
  return "# A gossip overlay member's SECRET key (gossip-ctl keygen). Keep it on this host, mode 0600.\n"
         "addresses = " + addresses_toml(id.pub.addresses) + "\n" +
         "curve_public = \"" + id.pub.curve_public + "\"\n" +
         "curve_secret = \"" + id.curve_secret + "\"\n" +
         "sign_public = \"" + hex(id.pub.sign_public.data(), id.pub.sign_public.size()) + "\"\n" +
         "sign_secret = \"" + hex(id.sign_secret.data(), id.sign_secret.size()) + "\"\n";
}

std::variant<PublicIdentity, ConfigError> read_public_identity(const fs::path& file) {
  auto parsed = parse_file(file);
  if (auto* err = std::get_if<ConfigError>(&parsed)) return *err;
  const auto& t = std::get<toml::table>(parsed);
  if (auto err = only_keys(t, file, {"addresses", "curve_public", "sign_public"})) return *err;
  PublicIdentity id;
  if (auto err = read_common(t, file, id)) return *err;
  return id;
}

std::variant<SecretIdentity, ConfigError> read_secret_identity(const fs::path& file) {
  auto parsed = parse_file(file);
  if (auto* err = std::get_if<ConfigError>(&parsed)) return *err;
  const auto& t = std::get<toml::table>(parsed);
  if (auto err = only_keys(t, file, {"addresses", "curve_public", "curve_secret", "sign_public", "sign_secret"}))
    return *err;
  SecretIdentity id;
  if (auto err = read_common(t, file, id.pub)) return *err;
  const std::string name = file.string();

  const auto* curve = t.get("curve_secret");
  if (!curve) return ConfigError{name, 0, "curve_secret", "is required"};
  const auto ctext = curve->value<std::string>();
  char derived[kCurveKeyText + 1];
  if (!ctext || ctext->size() != kCurveKeyText || zmq_curve_public(derived, ctext->c_str()) != 0)
    return ConfigError{name, line_of(*curve), "curve_secret", "must be a 40-character Z85 CURVE key"};
  if (id.pub.curve_public != derived)
    return ConfigError{name, line_of(*curve), "curve_secret", "does not belong to curve_public"};
  id.curve_secret = *ctext;

  const auto* sign = t.get("sign_secret");
  if (!sign) return ConfigError{name, 0, "sign_secret", "is required"};
  const auto stext = sign->value<std::string>();
  if (!stext || !unhex(*stext, id.sign_secret.data(), id.sign_secret.size()))
    return ConfigError{name, line_of(*sign), "sign_secret", "must be 128 hex digits (an Ed25519 secret key)"};
  // Rebuilt from its seed half: a copy of the public half alone (sk_to_pk) would pass a corrupted seed.
  SignPublicKey pk;
  SignSecretKey rebuilt;
  crypto_sign_seed_keypair(pk.data(), rebuilt.data(), id.sign_secret.data());
  const bool matches = pk == id.pub.sign_public && rebuilt == id.sign_secret;
  sodium_memzero(rebuilt.data(), rebuilt.size());
  if (!matches) return ConfigError{name, line_of(*sign), "sign_secret", "does not belong to sign_public"};

  struct stat st{};
  if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
    return ConfigError{name, 0, "", "a secret key file must not be readable by others (chmod 600)"};
  return id;
}

std::string write_identity(const SecretIdentity& id, const fs::path& out, bool overwrite) {
  const fs::path key = fs::path(out.string() + ".key");
  const fs::path pub = fs::path(out.string() + ".pub");
  std::error_code ec;
  if (out.has_parent_path()) fs::create_directories(out.parent_path(), ec);
  // Created 0600 from the start, so the secret is never readable by others, not even briefly.
  // Never over an existing key by accident: that would lock its node out of every trust store.
  const int fd = ::open(key.c_str(), O_WRONLY | O_CREAT | (overwrite ? O_TRUNC : O_EXCL), 0600);
  if (fd < 0 && errno == EEXIST) return key.string() + " exists (--force replaces it)";
  if (fd < 0) return "cannot write " + key.string() + ": " + std::strerror(errno);
  const std::string text = secret_file_text(id);
  const bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) return "cannot write " + key.string() + ": " + std::strerror(errno);
  std::ofstream p(pub, std::ios::binary | std::ios::trunc);
  p << public_file_text(id.pub);
  if (!p.flush()) return "cannot write " + pub.string();
  return "";
}

}  // namespace gossip

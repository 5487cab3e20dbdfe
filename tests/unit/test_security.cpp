// Unit tests for the pieces of security mode curve: key files, the trust store and its key/address
// binding, the ZAP decision, origin signatures, the node's credentials and the [security] config.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <zmq.h>

#include "common/credentials.hpp"
#include "common/keys.hpp"
#include "common/origin_auth.hpp"
#include "common/trust_store.hpp"
#include "common/zap.hpp"
#include "peer/gossip.hpp"

using namespace gossip;
namespace fs = std::filesystem;

namespace {

Address addr(const char* text) { return *parse_address(text); }

// A fresh directory under /tmp, removed with the object.
struct TempDir {
  TempDir()
      : path(fs::temp_directory_path() /
             ("gossip-sec-" + std::to_string(getpid()) + "-" + std::to_string(std::random_device{}()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

TrustStore store_of(std::vector<PublicIdentity> members) {
  auto t = TrustStore::from(std::move(members));
  if (auto* err = std::get_if<ConfigError>(&t)) FAIL(err->to_string());
  return std::get<TrustStore>(std::move(t));
}

std::string raw_key(const std::string& z85) {
  std::string raw(32, '\0');
  zmq_z85_decode(reinterpret_cast<std::uint8_t*>(raw.data()), z85.c_str());
  return raw;
}

std::vector<std::string_view> views(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

}  // namespace

// ---- key files -------------------------------------------------------------------------------------------

TEST_CASE("keygen's files read back as the same identity; the .key is mode 0600 and the .pub has no secret", "[keys]") {
  TempDir dir;
  const auto id = generate_identity("p1", {addr("127.0.0.1:7001"), addr("[::1]:7001")});
  REQUIRE(write_identity(id, dir.path / "p1").empty());
  struct stat st{};
  REQUIRE(::stat((dir.path / "p1.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto pub = read_public_identity(dir.path / "p1.pub");
  REQUIRE(std::holds_alternative<PublicIdentity>(pub));
  const auto& p = std::get<PublicIdentity>(pub);
  CHECK(p.curve_public == id.pub.curve_public);
  CHECK(p.sign_public == id.pub.sign_public);
  CHECK(p.addresses == id.pub.addresses);
  CHECK(p.name == "p1");
  std::ifstream in(dir.path / "p1.pub");
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  CHECK(text.find(id.curve_secret) == std::string::npos);
  CHECK(text.find("secret =") == std::string::npos);

  auto sec = read_secret_identity(dir.path / "p1.key");
  REQUIRE(std::holds_alternative<SecretIdentity>(sec));
  CHECK(std::get<SecretIdentity>(sec).curve_secret == id.curve_secret);
  CHECK(std::get<SecretIdentity>(sec).sign_secret == id.sign_secret);
}

TEST_CASE("a .key copied in as a .pub is refused, and keygen never overwrites a key by accident", "[keys]") {
  TempDir dir;
  const auto a = generate_identity("a", {addr("127.0.0.1:7001")});
  write(dir.path / "a.pub", secret_file_text(a));
  const auto r = read_public_identity(dir.path / "a.pub");
  REQUIRE(std::holds_alternative<ConfigError>(r));
  CHECK(std::get<ConfigError>(r).reason == "a public key file must not hold a secret key");

  REQUIRE(write_identity(a, dir.path / "n").empty());
  const auto b = generate_identity("b", {addr("127.0.0.1:7002")});
  CHECK(write_identity(b, dir.path / "n").find("exists") != std::string::npos);
  CHECK(std::get<SecretIdentity>(read_secret_identity(dir.path / "n.key")).curve_secret == a.curve_secret);
  REQUIRE(write_identity(b, dir.path / "n", true).empty());
  CHECK(std::get<SecretIdentity>(read_secret_identity(dir.path / "n.key")).curve_secret == b.curve_secret);
}

TEST_CASE("a key file is refused with its file, line, key and reason", "[keys]") {
  TempDir dir;
  const auto a = generate_identity("a", {addr("127.0.0.1:7001")});
  const auto b = generate_identity("b", {addr("127.0.0.1:7002")});
  const auto key = dir.path / "a.key";
  auto refusal = [&](const std::string& text) {
    write(key, text);
    ::chmod(key.c_str(), 0600);
    const auto r = read_secret_identity(key);
    REQUIRE(std::holds_alternative<ConfigError>(r));
    return std::get<ConfigError>(r);
  };
  auto text = secret_file_text(a);

  SECTION("a secret that belongs to another public key") {
    auto mixed = text;
    mixed.replace(mixed.find(a.curve_secret), a.curve_secret.size(), b.curve_secret);
    const auto e = refusal(mixed);
    CHECK(e.key == "curve_secret");
    CHECK(e.line == 4);
    CHECK(e.reason == "does not belong to curve_public");
  }
  SECTION("a signing key of another member") {
    auto mixed = text;
    const auto theirs = secret_file_text(b);
    const auto at = theirs.find("sign_secret");
    mixed.replace(mixed.find("sign_secret"), std::string::npos, theirs.substr(at));
    CHECK(refusal(mixed).key == "sign_secret");
  }
  SECTION("a wildcard or malformed address") {
    const auto e = refusal("addresses = [\"0.0.0.0:7001\"]\n");
    CHECK(e.key == "addresses");
    CHECK(e.line == 1);
    CHECK(refusal("addresses = [\"localhost:1\"]\n").key == "addresses");
    CHECK(refusal("addresses = []\n").key == "addresses");
  }
  SECTION("a key that is not Z85 of 32 bytes") {
    auto bad = text;
    bad.replace(bad.find(a.pub.curve_public), 40, std::string(39, 'a'));
    CHECK(refusal(bad).key == "curve_public");
  }
  SECTION("a missing field") { CHECK(refusal("addresses = [\"127.0.0.1:1\"]\n").reason == "is required"); }
  SECTION("a corrupted seed half of the signing key, though its public half is right") {
    auto bad = text;
    const auto at = bad.find("sign_secret = \"") + 15;
    bad[at] = bad[at] == '0' ? '1' : '0';
    CHECK(refusal(bad).key == "sign_secret");
  }
  SECTION("an unknown key") { CHECK(refusal(text + "curve_secrett = \"x\"\n").reason == "unknown key"); }
  SECTION("a secret readable by others") {
    write(key, text);
    ::chmod(key.c_str(), 0644);
    const auto r = read_secret_identity(key);
    REQUIRE(std::holds_alternative<ConfigError>(r));
    CHECK(std::get<ConfigError>(r).reason.find("chmod 600") != std::string::npos);
  }
}

// ---- the trust store -------------------------------------------------------------------------------------

TEST_CASE("a key speaks for exactly the addresses its file names", "[trust]") {
  const auto a = generate_identity("a", {addr("127.0.0.1:7001"), addr("127.0.0.1:7101")});
  const auto b = generate_identity("b", {addr("127.0.0.1:7002")});
  const auto t = store_of({a.pub, b.pub});
  CHECK(t.speaks_for(a.pub.curve_public, addr("127.0.0.1:7001")));
  CHECK(t.speaks_for(a.pub.curve_public, addr("127.0.0.1:7101")));
  CHECK_FALSE(t.speaks_for(a.pub.curve_public, addr("127.0.0.1:7002")));  // b's
  CHECK_FALSE(t.speaks_for(a.pub.curve_public, addr("127.0.0.1:7003")));  // nobody's
  CHECK_FALSE(t.speaks_for(a.pub.curve_public, addr("127.0.0.2:7001")));  // another host, same port
  CHECK(t.speaks_for(b.pub.curve_public, addr("127.0.0.1:7002")));
  const auto outsider = generate_identity("x", {addr("127.0.0.1:7001")});
  CHECK_FALSE(t.speaks_for(outsider.pub.curve_public, addr("127.0.0.1:7001")));
  CHECK(t.by_address(addr("127.0.0.1:7101"))->name == "a");
  CHECK(t.by_curve_key(b.pub.curve_public)->name == "b");
  CHECK(t.by_curve_key(outsider.pub.curve_public) == nullptr);
}

TEST_CASE("a trust store refuses two files that claim one address or hold one key", "[trust]") {
  auto a = generate_identity("a", {addr("127.0.0.1:7001")});
  auto b = generate_identity("b", {addr("127.0.0.1:7001")});
  a.pub.file = "a.pub";
  b.pub.file = "b.pub";
  auto same_address = TrustStore::from({a.pub, b.pub});
  REQUIRE(std::holds_alternative<ConfigError>(same_address));
  CHECK(std::get<ConfigError>(same_address).key == "addresses");
  CHECK(std::get<ConfigError>(same_address).reason == "127.0.0.1:7001 is also claimed by a.pub");
  auto copy = a.pub;
  copy.addresses = {addr("127.0.0.1:7009")};
  auto same_key = TrustStore::from({a.pub, copy});
  REQUIRE(std::holds_alternative<ConfigError>(same_key));
  CHECK(std::get<ConfigError>(same_key).key == "curve_public");
}

TEST_CASE("a trusted directory is every .pub file in it; its fingerprint changes when one comes or goes", "[trust]") {
  TempDir dir;
  const auto a = generate_identity("a", {addr("127.0.0.1:7001")});
  const auto b = generate_identity("b", {addr("127.0.0.1:7002")});
  write(dir.path / "a.pub", public_file_text(a.pub));
  write(dir.path / "notes.txt", "not a key");
  const auto one = trusted_dir_fingerprint(dir.path);
  auto t1 = TrustStore::load(dir.path);
  REQUIRE(std::holds_alternative<TrustStore>(t1));
  CHECK(std::get<TrustStore>(t1).size() == 1);

  write(dir.path / "b.pub", public_file_text(b.pub));
  const auto two = trusted_dir_fingerprint(dir.path);
  CHECK(two != one);
  auto t2 = TrustStore::load(dir.path);
  REQUIRE(std::holds_alternative<TrustStore>(t2));
  CHECK(std::get<TrustStore>(t2).size() == 2);
  CHECK(std::get<TrustStore>(t2).revoked_since(std::get<TrustStore>(t1)).empty());

  fs::remove(dir.path / "a.pub");
  CHECK(trusted_dir_fingerprint(dir.path) != two);
  auto t3 = TrustStore::load(dir.path);
  REQUIRE(std::holds_alternative<TrustStore>(t3));
  CHECK(std::get<TrustStore>(t3).revoked_since(std::get<TrustStore>(t2)) == std::vector<std::string>{a.pub.curve_public});

  write(dir.path / "bad.pub", "addresses = 5\n");
  auto t4 = TrustStore::load(dir.path);
  REQUIRE(std::holds_alternative<ConfigError>(t4));
  CHECK(std::get<ConfigError>(t4).file == (dir.path / "bad.pub").string());
  CHECK(std::holds_alternative<ConfigError>(TrustStore::load(dir.path / "missing")));
}

// ---- ZAP -------------------------------------------------------------------------------------------------

TEST_CASE("ZAP lets in a trusted CURVE key, naming it as the User-Id, and nobody else", "[zap]") {
  const auto a = generate_identity("a", {addr("127.0.0.1:7001")});
  const auto x = generate_identity("x", {addr("127.0.0.1:7009")});
  const auto t = store_of({a.pub});
  auto request = [](const std::string& domain, const std::string& mechanism, std::vector<std::string> creds) {
    std::vector<std::string> r = {"1.0", "req-7", domain, "10.1.2.3", "", mechanism};
    for (auto& c : creds) r.push_back(c);
    return r;
  };

  const auto ok = decide_zap(t, views(request("gossip", "CURVE", {raw_key(a.pub.curve_public)})));
  CHECK(ok.accepted);
  CHECK(ok.reply == std::vector<std::string>{"1.0", "req-7", "200", "OK", a.pub.curve_public, ""});

  const auto stranger = decide_zap(t, views(request("gossip", "CURVE", {raw_key(x.pub.curve_public)})));
  CHECK_FALSE(stranger.accepted);
  CHECK(stranger.reason == "untrusted_key");
  CHECK(stranger.client_ip == "10.1.2.3");
  CHECK(stranger.reply.at(2) == "400");
  CHECK(stranger.reply.at(4).empty());

  CHECK(decide_zap(t, views(request("gossip", "NULL", {}))).reason == "not_curve");
  CHECK(decide_zap(t, views(request("gossip", "PLAIN", {"user", "pass"}))).reason == "not_curve");
  CHECK(decide_zap(t, views(request("other", "CURVE", {raw_key(a.pub.curve_public)}))).reason == "wrong_domain");
  CHECK(decide_zap(t, views(request("gossip", "CURVE", {"short"}))).reason == "not_curve");
  const auto junk = decide_zap(t, views({"2.0", "x"}));
  CHECK_FALSE(junk.accepted);
  // Still answered (a REP socket that does not answer stalls every later handshake), and refused.
  CHECK(junk.reply == std::vector<std::string>{"1.0", "x", "400", "malformed_zap_request", "", ""});
}

// ---- signed origins --------------------------------------------------------------------------------------

TEST_CASE("an origin's signature verifies; any change to what it covers, or another key, does not", "[sign]") {
  const auto a = generate_identity("a", {addr("127.0.0.1:7001")});
  const auto b = generate_identity("b", {addr("127.0.0.1:7002")});
  const auto t = store_of({a.pub, b.pub});
  const OriginAuth as_a(a, t);
  const OriginAuth as_b(b, t);

  wire::Gossip m{addr("127.0.0.1:7001"), 3, 1767225600000000ull, 0, "hello"};
  m.signature = as_a.sign(canonical_content(m));
  CHECK(m.signature.size() == wire::kSignatureBytes);
  CHECK(as_b.check(m, canonical_content(m)).empty());
  m.hops = 7;  // not covered: it changes on every hop
  CHECK(as_b.check(m, canonical_content(m)).empty());

  auto changed = m;
  changed.body = "hellO";
  CHECK(as_b.check(changed, canonical_content(changed)) == "bad_signature");
  changed = m;
  changed.seq = 4;
  CHECK(as_b.check(changed, canonical_content(changed)) == "bad_signature");
  changed = m;
  changed.created_us += 1;
  CHECK(as_b.check(changed, canonical_content(changed)) == "bad_signature");

  // b signs a message in a's name: a valid signature, by the wrong key.
  auto forged = m;
  forged.signature = as_b.sign(canonical_content(forged));
  CHECK(as_a.check(forged, canonical_content(forged)) == "bad_signature");

  auto unsigned_copy = m;
  unsigned_copy.signature.clear();
  CHECK(as_a.check(unsigned_copy, canonical_content(unsigned_copy)) == "unsigned");
  auto nobody = m;
  nobody.origin = addr("127.0.0.1:7777");
  nobody.signature = as_a.sign(canonical_content(nobody));
  CHECK(as_a.check(nobody, canonical_content(nobody)) == "unknown_origin");
}

// ---- credentials and config ------------------------------------------------------------------------------

TEST_CASE("a curve node's credentials must name its address and be trusted by itself", "[credentials]") {
  TempDir dir;
  fs::create_directories(dir.path / "trusted");
  const auto me = generate_identity("me", {addr("127.0.0.1:7001")});
  REQUIRE(write_identity(me, dir.path / "me").empty());
  const std::string toml = "[node]\nlisten = \"127.0.0.1:7001\"\nseeds = [\"127.0.0.1:7000\"]\n"
                           "[security]\nmode = \"curve\"\nkey_file = \"me.key\"\ntrusted_dir = \"trusted\"\n";
  auto cfg = std::get<Config>(parse_config(toml, dir.path / "node.toml", Role::kPeer));
  REQUIRE(cfg.security.curve());
  CHECK(cfg.security.signing());
  CHECK(cfg.security.key_file == dir.path / "me.key");

  auto missing_self = load_credentials(cfg);
  REQUIRE(std::holds_alternative<ConfigError>(missing_self));
  CHECK(std::get<ConfigError>(missing_self).key == "security.trusted_dir");

  fs::copy_file(dir.path / "me.pub", dir.path / "trusted" / "me.pub");
  REQUIRE(std::holds_alternative<Credentials>(load_credentials(cfg)));

  cfg.node.listen = addr("127.0.0.1:7002");
  auto wrong_address = load_credentials(cfg);
  REQUIRE(std::holds_alternative<ConfigError>(wrong_address));
  CHECK(std::get<ConfigError>(wrong_address).key == "security.key_file");
  CHECK(std::get<ConfigError>(wrong_address).reason.find("127.0.0.1:7002") != std::string::npos);
}

TEST_CASE("[security] is checked like every other section", "[config]") {
  const std::string node = "[node]\nlisten = \"127.0.0.1:7001\"\nseeds = [\"127.0.0.1:7000\"]\n";
  auto error = [&](const std::string& security) {
    auto r = parse_config(node + security, "n.toml", Role::kPeer);
    REQUIRE(std::holds_alternative<ConfigError>(r));
    return std::get<ConfigError>(r);
  };
  const auto plain = std::get<Config>(parse_config(node, "n.toml", Role::kPeer));
  CHECK_FALSE(plain.security.curve());  // no [security]: version 1's trust, as every old config had
  CHECK_FALSE(plain.security.signing());
  auto e = error("[security]\nmode = \"tls\"\n");
  CHECK(e.key == "security.mode");
  CHECK(e.line == 5);
  CHECK(error("[security]\nmode = \"curve\"\n").key == "security.key_file");
  CHECK(error("[security]\nmode = \"curve\"\nkey_file = \"k.key\"\n").key == "security.trusted_dir");
  CHECK(error("[security]\nsign_origins = 1\n").key == "security.sign_origins");
  const auto any_port = parse_config("[node]\nlisten = \"127.0.0.1:0\"\nseeds = [\"127.0.0.1:7000\"]\n"
                                     "[security]\nmode = \"curve\"\nkey_file = \"k\"\ntrusted_dir = \"t\"\n",
                                     "n.toml", Role::kPeer);
  REQUIRE(std::holds_alternative<ConfigError>(any_port));
  CHECK(std::get<ConfigError>(any_port).key == "node.listen");
  CHECK(std::get<ConfigError>(any_port).line == 2);
  CHECK(error("[security]\nkeyfile = \"x\"\n").reason == "unknown key");
  const auto off = std::get<Config>(parse_config(
      node + "[security]\nmode = \"curve\"\nkey_file = \"k\"\ntrusted_dir = \"t\"\nsign_origins = false\n", "n.toml",
      Role::kPeer));
  CHECK(off.security.curve());
  CHECK_FALSE(off.security.signing());
}

#include "crypto/crypto.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <cstring>
#include <fstream>

namespace roster::crypto {
namespace {

class CryptoTest : public ::testing::Test {
 protected:
  void SetUp() override { Init(); }
};

TEST_F(CryptoTest, SealOpensOnlyWithSameKeyAndAssociatedData) {
  const SecretKey key = SecretKey::Random();
  const std::string sealed = Seal(key, "ssn=123456789", "env/user-1");
  EXPECT_EQ(sealed.find("123456789"), std::string::npos);
  EXPECT_EQ(*Open(key, sealed, "env/user-1"), "ssn=123456789");
  EXPECT_FALSE(Open(key, sealed, "env/user-2").has_value());
  EXPECT_FALSE(Open(SecretKey::Random(), sealed, "env/user-1").has_value());
  std::string tampered = sealed;
  tampered.back() ^= 1;
  EXPECT_FALSE(Open(key, tampered, "env/user-1").has_value());
  EXPECT_FALSE(Open(key, "short", "env/user-1").has_value());
  EXPECT_NE(Seal(key, "x", "a"), Seal(key, "x", "a"));  // random nonces
}

TEST_F(CryptoTest, DataKeysUnwrapOnlyForTheirEnvironment) {
  const Keyring ring(SecretKey::Random());
  const std::string wrapped = ring.NewWrappedDataKey("env-a");
  auto keys = ring.Unwrap("env-a", wrapped);
  ASSERT_TRUE(keys.has_value());
  EXPECT_FALSE(ring.Unwrap("env-b", wrapped).has_value());
  EXPECT_FALSE(Keyring(SecretKey::Random()).Unwrap("env-a", wrapped).has_value());
  // Same master + environment: the same index key, so blind indexes survive restarts.
  auto again = ring.Unwrap("env-a", wrapped);
  EXPECT_EQ(BlindIndex(keys->index, "username", "ada"), BlindIndex(again->index, "username", "ada"));
}

TEST_F(CryptoTest, AKeyListSealsUnderItsNewestAndOpensUnderAny) {
  const Keyring ring(SecretKey::Random());
  const std::string one = ring.NewWrappedDataKey("env-a");
  const auto old_keys = ring.Unwrap("env-a", one);
  ASSERT_TRUE(old_keys.has_value());
  EXPECT_EQ(Keyring::WrappedKeyCount(one), 1u);
  EXPECT_TRUE(old_keys->older.empty());
  const std::string two = ring.PrependNewDataKey("env-a", one);
  EXPECT_EQ(Keyring::WrappedKeyCount(two), 2u);
  auto keys = ring.Unwrap("env-a", two);
  ASSERT_TRUE(keys.has_value());
  ASSERT_EQ(keys->older.size(), 1u);
  const std::string under_old = Seal(old_keys->data, "profile", "ad");
  const std::string under_new = Seal(keys->data, "profile", "ad");
  EXPECT_EQ(*OpenAny(*keys, under_old, "ad"), "profile");  // the older key still opens
  EXPECT_EQ(*OpenAny(*keys, under_new, "ad"), "profile");
  EXPECT_FALSE(OpenAny(*old_keys, under_new, "ad").has_value());  // a list without the new key
  EXPECT_FALSE(OpenAny(*keys, under_new, "other").has_value());
  // The index key does not depend on the data keys: blind indexes survive a rotation.
  EXPECT_EQ(BlindIndex(keys->index, "username", "ada"), BlindIndex(old_keys->index, "username", "ada"));
  // Cut to the newest: the old key is gone.
  auto newest = ring.Unwrap("env-a", Keyring::NewestOnly(two));
  ASSERT_TRUE(newest.has_value());
  EXPECT_TRUE(newest->older.empty());
  EXPECT_FALSE(OpenAny(*newest, under_old, "ad").has_value());
  EXPECT_EQ(*OpenAny(*newest, under_new, "ad"), "profile");
  // A list whose length is no multiple of a wrapped key, or empty, is refused.
  EXPECT_EQ(Keyring::WrappedKeyCount(two + "x"), 0u);
  EXPECT_FALSE(ring.Unwrap("env-a", two + "x").has_value());
  EXPECT_FALSE(ring.Unwrap("env-a", "").has_value());
}

TEST_F(CryptoTest, ANewMasterKeyRewrapsTheSameKeysAndRootsAndOnlyItOpensThem) {
  const SecretKey old_master = SecretKey::Random(), new_master = SecretKey::Random();
  Keyring old_ring(old_master);
  const std::string list = old_ring.PrependNewDataKey("env", old_ring.NewWrappedDataKey("env"));
  Keyring new_ring(new_master, old_ring);
  auto rewrapped = old_ring.Rewrap("env", list, new_ring);
  ASSERT_TRUE(rewrapped.has_value());
  EXPECT_EQ(rewrapped->size(), list.size());
  EXPECT_FALSE(old_ring.Unwrap("env", *rewrapped).has_value());
  auto before = old_ring.Unwrap("env", list);
  auto after = new_ring.Unwrap("env", *rewrapped);
  ASSERT_TRUE(before.has_value() && after.has_value());
  // Same data keys in the same order, same index key, same digests and audit MACs.
  EXPECT_EQ(std::memcmp(before->data.data(), after->data.data(), SecretKey::size()), 0);
  ASSERT_EQ(after->older.size(), 1u);
  EXPECT_EQ(std::memcmp(before->older[0].data(), after->older[0].data(), SecretKey::size()), 0);
  EXPECT_EQ(BlindIndex(before->index, "username", "ada"), BlindIndex(after->index, "username", "ada"));
  EXPECT_EQ(old_ring.Digest("secret"), new_ring.Digest("secret"));
  EXPECT_EQ(old_ring.AuditMac("record"), new_ring.AuditMac("record"));
  EXPECT_NE(Keyring::Fingerprint(old_master), Keyring::Fingerprint(new_master));
  EXPECT_EQ(new_ring.Fingerprint(), Keyring::Fingerprint(new_master));
  // The roots kept wrapped: a keyring of the new key alone adopts them; the old key's
  // keyring cannot open them.
  const std::string roots = new_ring.WrapRoots();
  Keyring fresh(new_master);
  EXPECT_NE(fresh.Digest("secret"), old_ring.Digest("secret"));  // derived from the new key: other roots
  ASSERT_TRUE(fresh.AdoptRoots(roots).has_value());
  EXPECT_EQ(fresh.Digest("secret"), old_ring.Digest("secret"));
  Keyring stale(old_master);
  EXPECT_FALSE(stale.AdoptRoots(roots).has_value());
  // A process switched to the new key unwraps the re-wrapped list.
  stale.SwitchMaster(new_master);
  EXPECT_TRUE(stale.Unwrap("env", *rewrapped).has_value());
}

TEST_F(CryptoTest, BlindIndexSeparatesKindsAndKeys) {
  const SecretKey k1 = SecretKey::Random(), k2 = SecretKey::Random();
  EXPECT_EQ(BlindIndex(k1, "email", "a@b.co").size(), 32u);
  EXPECT_NE(BlindIndex(k1, "email", "a@b.co"), BlindIndex(k1, "username", "a@b.co"));
  EXPECT_NE(BlindIndex(k1, "email", "a@b.co"), BlindIndex(k2, "email", "a@b.co"));
  EXPECT_NE(BlindIndex(k1, "ab", "c"), BlindIndex(k1, "a", "bc"));
}

TEST_F(CryptoTest, DigestsAndTokens) {
  const Keyring ring(SecretKey::Random());
  const std::string t1 = RandomToken(), t2 = RandomToken();
  EXPECT_EQ(t1.size(), 64u);
  EXPECT_NE(t1, t2);
  EXPECT_EQ(ring.Digest(t1), ring.Digest(t1));
  EXPECT_NE(ring.Digest(t1), ring.Digest(t2));
  EXPECT_TRUE(SecretsEqual("abc", "abc"));
  EXPECT_FALSE(SecretsEqual("abc", "abd"));
  EXPECT_FALSE(SecretsEqual("abc", "ab"));
  const std::string id = NewUuid();
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(id[14], '4');
}

TEST_F(CryptoTest, PasswordHashDefaultsAreOwaspArgon2id) {
  const PasswordHasher hasher(PasswordParams{});
  auto phc = hasher.Hash("correct horse");
  ASSERT_TRUE(phc.has_value());
  EXPECT_EQ(phc->rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << *phc;
  EXPECT_TRUE(hasher.Verify(*phc, "correct horse"));
  EXPECT_FALSE(hasher.Verify(*phc, "correct horsf"));
  EXPECT_FALSE(hasher.NeedsRehash(*phc));
  const PasswordHasher weaker(PasswordParams{1, 8 * 1024 * 1024});
  EXPECT_TRUE(hasher.NeedsRehash(*weaker.Hash("x")));
  EXPECT_FALSE(hasher.Verify("not a phc string", "x"));
}

TEST_F(CryptoTest, KeyFileIsCreatedPrivateAndReadBack) {
  const auto dir = std::filesystem::temp_directory_path() / ("roster-key-" + RandomToken().substr(0, 8));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "master.key").string();
  EXPECT_THROW(LoadOrCreateKeyFile(path, false), std::runtime_error);
  const SecretKey created = LoadOrCreateKeyFile(path, true);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  const SecretKey read = LoadOrCreateKeyFile(path, false);
  EXPECT_EQ(0, std::memcmp(created.data(), read.data(), 32));
  std::ofstream(path) << "garbage";
  EXPECT_THROW(LoadOrCreateKeyFile(path, false), std::runtime_error);
  std::filesystem::remove_all(dir);
}

TEST_F(CryptoTest, PassphraseSealOpensOnlyWithThePassphrase) {
  const std::string secret(32, '\x5a');
  const std::string sealed = SealWithPassphrase(secret, "correct horse battery staple");
  EXPECT_EQ(sealed.find(secret), std::string::npos);
  auto opened = OpenWithPassphrase(sealed, "correct horse battery staple");
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, secret);
  auto wrong = OpenWithPassphrase(sealed, "correct horse battery stapler");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, core::ErrorCode::kPermissionDenied);
  std::string damaged = sealed;
  damaged.back() ^= 1;
  EXPECT_FALSE(OpenWithPassphrase(damaged, "correct horse battery staple"));
  EXPECT_FALSE(OpenWithPassphrase("RPW1", "x"));
  // A fresh salt each time.
  EXPECT_NE(SealWithPassphrase(secret, "p"), SealWithPassphrase(secret, "p"));
}

}  // namespace
}  // namespace roster::crypto

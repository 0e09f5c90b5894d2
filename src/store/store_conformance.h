// The store conformance suite: one set of behaviour tests written against the ports,
// instantiated once per adapter with a factory for a fresh, empty store:
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest, ::testing::Values(factory));
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "store/store.h"

namespace roster::store {

using StoreFactory = std::function<std::unique_ptr<Store>()>;

// A factory with the adapter's name, which is what test listings print for it.
struct NamedStoreFactory {
  std::string name;
  StoreFactory make;
  friend void PrintTo(const NamedStoreFactory& f, std::ostream* os) { *os << f.name; }
};

class StoreConformanceTest : public ::testing::TestWithParam<NamedStoreFactory> {
 protected:
  void SetUp() override;
  std::unique_ptr<Store> store_;
  std::string env_ = "env-1";
  std::string other_env_ = "env-2";
};

}  // namespace roster::store

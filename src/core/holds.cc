#include "core/holds.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <utility>

namespace roster::core {
namespace {
thread_local HoldScope* current = nullptr;
}

HoldScope::HoldScope(std::string route, std::string request_id)
    : route_(std::move(route)), request_id_(std::move(request_id)), outer_(current) {
  current = this;
}

RequestContext CurrentRequest() {
  if (current == nullptr) return {};
  return {current->route_, current->request_id_};
}
HoldScope::~HoldScope() { current = outer_; }

std::vector<Hold> HoldScope::Take() { return std::exchange(holds_, {}); }

bool AddHold(Hold hold) {
  if (current == nullptr) return false;
  current->holds_.push_back(std::move(hold));
  return true;
}

bool AwaitHolds(std::vector<Hold> holds) {
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::size_t left = 0;
    bool durable = true;
  };
  auto state = std::make_shared<State>();
  state->left = holds.size();
  for (auto& hold : holds) {
    hold([state](bool durable) {
      std::lock_guard lock(state->mu);
      state->durable = state->durable && durable;
      if (--state->left == 0) state->cv.notify_all();
    });
  }
  std::unique_lock lock(state->mu);
  state->cv.wait(lock, [&] { return state->left == 0; });
  return state->durable;
}

}  // namespace roster::core

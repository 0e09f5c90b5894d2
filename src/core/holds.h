// Holds on a request's answer: effects that must be durable before the answer leaves
// (the audit record of what it reveals, service/audit.h). The HTTP router opens a
// HoldScope around each handler; the service adds holds to the scope open on its
// thread; the server sends the answer once every hold is released, and an error
// instead if one failed, without keeping a thread waiting. Outside a scope (the CLI,
// unit tests) AddHold refuses and the caller waits itself. The scope also tells the
// service which request it serves (CurrentRequest), so no dialect passes it along.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace roster::core {

// Told once, from any thread, whether the held effect is durable.
using HoldDone = std::function<void(bool durable)>;
// Calls `done` exactly once: at once if the effect is durable already, later otherwise.
using Hold = std::function<void(HoldDone done)>;

bool AddHold(Hold hold);

// The request a thread is serving, while a HoldScope is open on it: its route template
// (never the path) and request id, which audit records name. Empty outside a request.
struct RequestContext {
  std::string_view route;
  std::string_view request_id;
};
RequestContext CurrentRequest();

class HoldScope {
 public:
  HoldScope(std::string route = {}, std::string request_id = {});
  ~HoldScope();
  HoldScope(const HoldScope&) = delete;
  HoldScope& operator=(const HoldScope&) = delete;
  // The holds added on this thread while the scope was open.
  std::vector<Hold> Take();

 private:
  friend bool AddHold(Hold hold);
  friend RequestContext CurrentRequest();
  std::string route_, request_id_;
  std::vector<Hold> holds_;
  HoldScope* outer_;
};

// Adds `hold` to the scope open on this thread; false (and nothing kept) when none is.
bool AddHold(Hold hold);

// Waits for every hold on this thread; true when all were durable.
bool AwaitHolds(std::vector<Hold> holds);

}  // namespace roster::core

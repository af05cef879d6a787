// Outbox: where notifications wait until they are delivered, as the dispatcher (notify/) sees
// it. Every Store (load/store.h) is one; notify/ depends on this interface, not on load/.
//
// claim_outbox() leases up to `limit` pending messages to this process until `lease_until`
// (RFC 3339), so that two processes never deliver the same message at once; record_delivery()
// ends the lease with the outcome. A message marked delivered is never handed out again.
// Failures are Status values of kind kLoad. Used by one thread at a time, as a Store is.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/records.h"
#include "common/status.h"

namespace covid {

class Outbox {
 public:
  virtual ~Outbox() = default;
  virtual Result<std::vector<OutboxMessage>> claim_outbox(size_t limit, const std::string& now,
                                                          const std::string& lease_until) = 0;
  virtual Status record_delivery(const DeliveryUpdate& update) = 0;
};

}  // namespace covid

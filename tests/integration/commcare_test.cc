// Integration tests for the commcare routes.
#include "integration/harness.h"

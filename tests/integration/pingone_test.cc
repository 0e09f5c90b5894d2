// Integration tests for the pingone routes.
#include "integration/harness.h"

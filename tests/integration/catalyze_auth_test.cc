// Integration tests for the catalyze_auth routes.
#include "integration/harness.h"

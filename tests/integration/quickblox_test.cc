// Integration tests for the quickblox routes.
#include "integration/harness.h"
